// MapView: draws a scene (recommender.maps.scene) on a canvas: the page's two pictures and `recommender map -o x.html`.
// Points are painted on one canvas, never one DOM node each: the base picture is painted once per pan or zoom
// into an offscreen canvas, and hover only repaints a ring over a copy of it, so 100K points stay smooth.
// Hit testing goes through a grid of the points' positions, so hover costs the points near the pointer only.
"use strict";

class MapView {
  constructor(canvas, scene, handlers = {}) {
    this.canvas = canvas;
    this.handlers = handlers;
    this.base = document.createElement("canvas");
    this.hovered = null;
    this.picked = null;
    this.drawMs = 0;
    this.setScene(scene);
    this._wire();
    this.resize();
  }

  setScene(scene) {
    this.scene = scene;
    this.n = scene.x.length;
    this.highlight = new Set(scene.highlight || []);
    this.reading = new Set(scene.reading || []);
    this.zoom = 1;
    this.pan = [0, 0];
    this._grid();
    if (this.width) this.render();
  }

  setMarks(highlight, reading) {
    this.highlight = new Set(highlight || []);
    this.reading = new Set(reading || []);
    this.render();
  }

  // --- geometry: scene coordinates lie in [-1, 1]; the frame keeps a margin for labels ---
  resize() {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.width = Math.max(rect.width, 50);
    this.height = Math.max(rect.height, 50);
    for (const c of [this.canvas, this.base]) {
      c.width = Math.round(this.width * ratio);
      c.height = Math.round(this.height * ratio);
    }
    this.ratio = ratio;
    this.render();
  }

  _scale() { return 0.45 * Math.min(this.width, this.height) * this.zoom; }

  toScreen(i) {
    const s = this._scale();
    return [this.width / 2 + (this.scene.x[i] + this.pan[0]) * s, this.height / 2 + (this.scene.y[i] + this.pan[1]) * s];
  }

  // Where point i is on the page (for a test's pointer, or to place a tooltip).
  clientPosition(i) {
    const rect = this.canvas.getBoundingClientRect();
    const [x, y] = this.toScreen(i);
    return {x: rect.left + x, y: rect.top + y};
  }

  _grid() {
    const cells = Math.max(1, Math.round(Math.sqrt(this.n / 4)));
    this.cells = cells;
    this.buckets = new Map();
    for (let i = 0; i < this.n; i++) {
      const key = this._cell(this.scene.x[i], this.scene.y[i]);
      if (!this.buckets.has(key)) this.buckets.set(key, []);
      this.buckets.get(key).push(i);
    }
  }

  _cell(x, y) {
    const c = this.cells;
    const cx = Math.min(c - 1, Math.max(0, Math.floor((x + 1) / 2 * c)));
    const cy = Math.min(c - 1, Math.max(0, Math.floor((y + 1) / 2 * c)));
    return cx * c + cy;
  }

  // The point under (x, y) in canvas pixels, or null.
  pointAt(x, y) {
    const s = this._scale();
    const dataX = (x - this.width / 2) / s - this.pan[0];
    const dataY = (y - this.height / 2) / s - this.pan[1];
    const reach = 10 / s;  // ten pixels, in scene units
    const c = this.cells;
    const [x0, x1] = [Math.floor((dataX - reach + 1) / 2 * c), Math.floor((dataX + reach + 1) / 2 * c)];
    const [y0, y1] = [Math.floor((dataY - reach + 1) / 2 * c), Math.floor((dataY + reach + 1) / 2 * c)];
    let best = null;
    let bestDistance = Infinity;
    for (let cx = Math.max(0, x0); cx <= Math.min(c - 1, x1); cx++) {
      for (let cy = Math.max(0, y0); cy <= Math.min(c - 1, y1); cy++) {
        for (const i of this.buckets.get(cx * c + cy) || []) {
          const [px, py] = this.toScreen(i);
          const distance = Math.hypot(px - x, py - y);
          if (distance <= Math.max(6, this.scene.size[i] + 3) && distance < bestDistance) {
            best = i;
            bestDistance = distance;
          }
        }
      }
    }
    return best;
  }

  // --- painting ---
  render() {
    if (!this.width) return;
    const started = performance.now();
    const ctx = this.base.getContext("2d");
    const scene = this.scene;
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    ctx.lineWidth = 1;
    ctx.strokeStyle = "rgba(120, 130, 150, 0.45)";
    ctx.beginPath();
    for (const [i, j] of scene.edges || []) {
      const [ax, ay] = this.toScreen(i);
      const [bx, by] = this.toScreen(j);
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
    }
    ctx.stroke();
    const many = this.n > 3000;
    // One path per colour: a few fill calls whatever the number of points.
    const byColour = new Map();
    for (let i = 0; i < this.n; i++) {
      const colour = scene.color[i];
      if (!byColour.has(colour)) byColour.set(colour, []);
      byColour.get(colour).push(i);
    }
    ctx.globalAlpha = many ? 0.75 : 1;
    for (const [colour, members] of byColour) {
      ctx.fillStyle = scene.palette[colour];
      ctx.beginPath();
      for (const i of members) {
        const [x, y] = this.toScreen(i);
        if (x < -10 || y < -10 || x > this.width + 10 || y > this.height + 10) continue;
        const r = scene.size[i] * (many ? Math.min(2, Math.sqrt(this.zoom)) * 0.6 : 1);
        if (many) ctx.rect(x - r, y - r, 2 * r, 2 * r);
        else { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); }
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    if (!many) {
      ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
      ctx.lineWidth = 0.8;
      for (let i = 0; i < this.n; i++) {
        const [x, y] = this.toScreen(i);
        ctx.beginPath();
        ctx.arc(x, y, scene.size[i], 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    this._marks(ctx);
    ctx.font = "600 13px system-ui, sans-serif";
    ctx.textAlign = "center";
    for (const label of scene.labels || []) {
      const s = this._scale();
      const x = this.width / 2 + (label.x + this.pan[0]) * s;
      const y = this.height / 2 + (label.y + this.pan[1]) * s;
      const w = ctx.measureText(label.text).width + 8;
      ctx.fillStyle = "rgba(255, 255, 255, 0.8)";
      ctx.fillRect(x - w / 2, y - 12, w, 17);
      ctx.fillStyle = "#1d2330";
      ctx.fillText(label.text, x, y);
    }
    this.drawMs = performance.now() - started;
    this._overlay();
  }

  _marks(ctx) {
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#d62728";
    for (const i of this.highlight) {
      const [x, y] = this.toScreen(i);
      ctx.beginPath();
      ctx.arc(x, y, Math.max(6, this.scene.size[i] + 3), 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.strokeStyle = "#111111";
    for (const i of this.reading) {
      const [x, y] = this.toScreen(i);
      const r = Math.max(7, this.scene.size[i] + 4);
      ctx.strokeRect(x - r, y - r, 2 * r, 2 * r);
    }
    if (this.scene.center !== null && this.scene.center !== undefined) {
      const [x, y] = this.toScreen(this.scene.center);
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.arc(x, y, this.scene.size[this.scene.center] + 5, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  _overlay() {
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this.base, 0, 0);
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    for (const [i, colour] of [[this.picked, "#1f5fbf"], [this.hovered, "#f0a202"]]) {
      if (i === null || i === undefined) continue;
      const [x, y] = this.toScreen(i);
      ctx.lineWidth = 3;
      ctx.strokeStyle = colour;
      ctx.beginPath();
      ctx.arc(x, y, Math.max(7, this.scene.size[i] + 4), 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  pick(i) {
    this.picked = i;
    this._overlay();
    if (this.handlers.click && i !== null) this.handlers.click(i);
  }

  // --- pointer and keyboard ---
  _wire() {
    const canvas = this.canvas;
    canvas.tabIndex = 0;
    let drag = null;
    const local = (event) => {
      const rect = canvas.getBoundingClientRect();
      return [event.clientX - rect.left, event.clientY - rect.top];
    };
    canvas.addEventListener("pointerdown", (event) => { drag = {at: local(event), moved: false}; });
    canvas.addEventListener("pointermove", (event) => {
      const [x, y] = local(event);
      if (drag && event.buttons) {
        const [dx, dy] = [x - drag.at[0], y - drag.at[1]];
        if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) {
          this.pan[0] += dx / this._scale();
          this.pan[1] += dy / this._scale();
          drag.at = [x, y];
          this.render();
          return;
        }
      }
      const i = this.pointAt(x, y);
      if (i !== this.hovered) {
        this.hovered = i;
        this._overlay();
        canvas.style.cursor = i === null ? "grab" : "pointer";
        if (this.handlers.hover) this.handlers.hover(i, x, y);
      }
    });
    canvas.addEventListener("pointerleave", () => {
      this.hovered = null;
      this._overlay();
      if (this.handlers.hover) this.handlers.hover(null);
    });
    canvas.addEventListener("pointerup", (event) => {
      const moved = drag && drag.moved;
      drag = null;
      if (moved) return;
      const [x, y] = local(event);
      const i = this.pointAt(x, y);
      if (i !== null) this.pick(i);
    });
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      this.zoomBy(event.deltaY < 0 ? 1.25 : 0.8);
    }, {passive: false});
    canvas.addEventListener("keydown", (event) => {
      const steps = {ArrowLeft: [0.1, 0], ArrowRight: [-0.1, 0], ArrowUp: [0, 0.1], ArrowDown: [0, -0.1]};
      if (event.key === "+" || event.key === "=") this.zoomBy(1.25);
      else if (event.key === "-") this.zoomBy(0.8);
      else if (event.key === "0") { this.zoom = 1; this.pan = [0, 0]; this.render(); }
      else if (event.key === "n" || event.key === "p") this.step(event.key === "n" ? 1 : -1);
      else if (steps[event.key]) {
        this.pan[0] += steps[event.key][0] / this.zoom;
        this.pan[1] += steps[event.key][1] / this.zoom;
        this.render();
      } else return;
      event.preventDefault();
    });
    if (window.ResizeObserver) new ResizeObserver(() => this.resize()).observe(canvas);
  }

  // The keyboard's way to a point: n / p go through the ringed points (a collection's results, then its
  // reading list) or, in a neighbourhood, through the neighbours from the nearest.
  step(direction) {
    const order = this.scene.kind === "neighbourhood"
      ? [...Array(this.n).keys()].filter((i) => i !== this.scene.center)
      : [...new Set([...this.highlight, ...this.reading])];
    if (!order.length) return;
    const at = order.indexOf(this.picked);
    const next = order[(at + direction + order.length) % order.length];
    this.hovered = next;
    if (this.handlers.hover) this.handlers.hover(next);
    this.pick(next);
  }

  zoomBy(factor) {
    this.zoom = Math.min(200, Math.max(0.5, this.zoom * factor));
    this.render();
  }
}

if (typeof window !== "undefined") window.MapView = MapView;
