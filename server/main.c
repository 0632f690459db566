/* Placeholder until this part lands. */
int main(void)
{
    return 1;
}
