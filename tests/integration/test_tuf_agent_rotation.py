"""The C agent follows legitimate key rotations of the trust chain.

An agent installed with root version 1 keeps working through a director key
rotation (it follows the root chain when an assignment is signed by a key its
root does not name yet), a timestamp key rotation and a rotation of the
offline root keys themselves (root N+1 signed by the old and the new
threshold). It keeps the newest root it verified in its data dir and starts
from it after a restart, although --trusted-root still names version 1.
"""
import json
import os

import rf


def rollout(srv, bundle):
    rid = int(srv.cli("rollout", "create", "--bundle", str(bundle), token="release").stdout)
    srv.cli("rollout", "start", str(rid), token="release")
    return rid


def kept_versions(agent):
    with open(os.path.join(agent.data, "tuf", "versions.json")) as f:
        return json.load(f)


def read_log(agent):
    with open(agent.log_path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def install(srv, agent, version):
    b = srv.push(f"sensor content v{version}\n".encode() * 30, version=str(version))
    rid = rollout(srv, b)
    rf.wait_for(f"{agent.name} running bundle {b}", lambda: agent.running() == b, timeout=40)
    srv.cli("rollout", "promote", str(rid), token="release")
    return b


def test(srv):
    srv.cli("ring", "create", "all", "--order", "0", token="release")
    agent = rf.Agent(srv, "rotating").start()
    rf.wait_for("the agent enrolled", agent.enrolled)
    install(srv, agent, 1)
    assert kept_versions(agent)["root"] == 1

    # A new director key: the next assignment is signed by a key that only
    # root version 2 names; the agent follows the chain and accepts it.
    srv.run("keys", "rotate", "--role", "director", "--root-keys", srv.root_keys)
    b2 = install(srv, agent, 2)
    assert kept_versions(agent)["root"] == 2, kept_versions(agent)
    log = read_log(agent)
    followed = [i for i, l in enumerate(log) if l["msg"] == "trusted root updated"]
    fetched = [i for i, l in enumerate(log) if l["msg"] == "fetch" and f"bundle {b2} " in l["detail"]]
    assert followed and fetched and followed[0] < fetched[0], \
        "root 2 was not followed for the assignment, before the bundle's refresh"

    # A new timestamp key, then new offline root keys (4 keys, threshold 3).
    srv.run("keys", "rotate", "--role", "timestamp", "--root-keys", srv.root_keys)
    new_root = os.path.join(srv.dir, "root-keys-2")
    srv.run("keys", "rotate-root", "--old", srv.root_keys, "--new", new_root,
            "--root-keys", "4", "--threshold", "3")
    install(srv, agent, 3)
    kept = kept_versions(agent)
    assert kept["root"] == 4, kept
    assert os.path.exists(os.path.join(agent.data, "tuf", "4.root.json"))
    assert not os.path.exists(os.path.join(agent.data, "tuf", "1.root.json"))

    # After a restart the kept root (4) wins over the installed one (1).
    agent.stop()
    agent.start()
    srv.run("keys", "rotate", "--role", "targets", "--root-keys", new_root)
    install(srv, agent, 4)
    assert kept_versions(agent)["root"] == 5, kept_versions(agent)
    starts = [l for l in read_log(agent) if l["msg"] == "agent starting"]
    assert [s["trusted_root_version"] for s in starts] == ["1", "4"], starts

    refused = [e for e in srv.events() if e["kind"] == "device.verify_failed"]
    assert refused == [], refused
    calls = agent.hook_calls()
    assert [c[2] for c in calls] == ["1", "2", "3", "4"], calls


if __name__ == "__main__":
    rf.main(test)
