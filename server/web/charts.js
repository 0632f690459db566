/* ringfence dashboard: the failure-rate chart of one rollout stage, drawn with
 * uPlot — the stage's failure rate, its control and the halt threshold over
 * time, with the halt marked by a vertical line. Builds DOM with textContent
 * only; never evaluates or injects markup from the API. */
"use strict";

window.rfCharts = (function () {
  const COLORS = { rate: "#cf222e", control: "#6b7280", threshold: "#b35900", halt: "#cf222e" };

  function pct(v) {
    return v == null ? "–" : (v * 100).toFixed(1) + "%";
  }

  /* [xs, rate, control, threshold] from the stage's points; the series is
   * carried on to the halt (or now, while live) so the last value shows. */
  function columns(stage, haltT, live) {
    const xs = [], rate = [], control = [], thr = [];
    for (const p of stage.points) {
      xs.push(p.t); rate.push(p.failure_rate); control.push(p.control_rate);
      thr.push(p.threshold);
    }
    const end = haltT || (live ? Math.floor(Date.now() / 1000) : null);
    if (xs.length && end && end > xs[xs.length - 1]) {
      xs.push(end); rate.push(rate[rate.length - 1]); control.push(control[control.length - 1]);
      thr.push(thr[thr.length - 1]);
    }
    return [xs, rate, control, thr];
  }

  function haltMarker(haltT) {
    return function (u) {
      if (!haltT) return;
      const x = u.valToPos(haltT, "x", true);
      const ctx = u.ctx;
      ctx.save();
      ctx.strokeStyle = COLORS.halt;
      ctx.lineWidth = 2 * devicePixelRatio;
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillStyle = COLORS.halt;
      ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
      ctx.textAlign = "right";
      ctx.fillText("halt", x - 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
      ctx.restore();
    };
  }

  /* Draws stage's chart into a new element appended to parent. halt is the
   * rollout's halt object (or null); live tells whether the rollout still runs. */
  function stageChart(parent, stage, halt, live) {
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.stage = String(stage.index);
    const h = document.createElement("h3");
    h.textContent = `Stage ${stage.index} · ring ${stage.ring} · ${stage.state}` +
      ` · halt threshold ${pct(stage.threshold)}`;
    box.appendChild(h);
    const haltHere = halt && halt.stage === stage.index;
    const haltT = haltHere ? Math.floor(Date.parse(halt.at) / 1000) : null;
    if (haltHere) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = `Halted at ${halt.at} by ${halt.by}: ${halt.failed}/${halt.exposed} ` +
        `failed (${pct(halt.failure_rate)})`;
      box.appendChild(note);
    }
    parent.appendChild(box);
    if (!stage.points.length) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = "No figures recorded yet.";
      box.appendChild(p);
      return box;
    }
    const data = columns(stage, haltT, live);
    let top = 0;
    for (let i = 1; i < 4; i++) for (const v of data[i]) top = Math.max(top, v || 0);
    const stepped = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
    const opts = {
      width: Math.max(320, Math.min(parent.clientWidth || 900, 1100) - 24),
      height: 220,
      scales: {
        /* at least 30 s wide, so a stage that halted within seconds still reads */
        /* from the data itself: uPlot widens a zero-width domain on its own
         * (to years) before calling range, so its min/max cannot be used */
        x: { time: true, range: () => {
          const min = data[0][0], max = data[0][data[0].length - 1];
          const pad = Math.max(2, (30 - (max - min)) / 2);
          return [min - pad, max + pad];
        } },
        y: { range: [0, Math.min(1, top * 1.15 || 1)] },
      },
      series: [
        {},
        { label: "failure rate", stroke: COLORS.rate, width: 2, paths: stepped,
          value: (u, v) => pct(v) },
        { label: "control", stroke: COLORS.control, width: 2, paths: stepped,
          value: (u, v) => pct(v) },
        { label: "halt threshold", stroke: COLORS.threshold, width: 1.5, dash: [6, 4],
          paths: stepped, value: (u, v) => pct(v) },
      ],
      axes: [{}, { values: (u, vals) => vals.map((v) => (v * 100).toFixed(0) + "%") }],
      hooks: { draw: [haltMarker(haltT), (u) => {
        /* the time span drawn, for tests and for anyone inspecting the page */
        box.dataset.xMin = String(u.scales.x.min);
        box.dataset.xMax = String(u.scales.x.max);
      }] },
    };
    const el = document.createElement("div");
    box.appendChild(el);
    new uPlot(opts, data, el);
    return box;
  }

  return { stageChart, pct };
})();
