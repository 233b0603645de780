/* L.HsDots: many sites drawn on ONE canvas (for the plan map's big layers).
 *
 * A city plan has tens of thousands of sites; one Leaflet object per site (a marker and
 * a coverage circle) costs seconds at load. This layer keeps the sites as plain arrays,
 * paints the ones in view on its own canvas after every move (coverage circles too, from
 * street zoom), and answers clicks and hovers by a pixel-grid index of what it painted.
 * Popups and tooltips are built only when asked for, from the caller's functions, which
 * return DOM nodes (data shown as text, never as markup).
 *
 * options: lat, lng, year (arrays, year null = always shown), radiusM (metres, or null),
 * style (array of per-site style indices), styles ([{radius, color, weight, fillColor,
 * fillOpacity}]), circleColour (per style), circleZoom, popup(i) -> Node, tip(i) -> Node
 * or null, kind.
 */
(function () {
  'use strict';
  var CELL = 16;  /* px, hit-test grid */

  L.HsDots = L.Layer.extend({
    initialize: function (o) {
      this.o = o;
      this.n = o.lat.length;
      this.maxYear = Infinity;
      var x = new Float64Array(this.n), y = new Float64Array(this.n);
      for (var i = 0; i < this.n; i++) {  /* Web Mercator at zoom 0 (256 px world) */
        var s = Math.sin(o.lat[i] * Math.PI / 180);
        s = Math.max(Math.min(s, 0.9999), -0.9999);
        x[i] = 128 * (1 + o.lng[i] / 180);
        y[i] = 128 * (1 - Math.log((1 + s) / (1 - s)) / (2 * Math.PI));
      }
      this.x0 = x; this.y0 = y;
      this.px = new Float32Array(this.n); this.py = new Float32Array(this.n);
    },

    onAdd: function (map) {
      this._map = map;
      this._canvas = L.DomUtil.create('canvas', 'hs-dots leaflet-zoom-hide');
      this._canvas.style.pointerEvents = 'none';
      map.getPane('overlayPane').appendChild(this._canvas);
      map.on('moveend resize', this.redraw, this);
      this._bind(map.getContainer(), true);
      this.redraw();
    },

    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off('moveend resize', this.redraw, this);
      this._bind(map.getContainer(), false);
      if (this._tip) { map.closeTooltip(this._tip); }
      this._shown = null;
    },

    /* Sites installed by year y show; Infinity shows all. */
    setMaxYear: function (y) {
      this.maxYear = y;
      if (this._map) { this.redraw(); }
    },

    /* How many sites the year filter keeps (for the page's tests and counts). */
    countShown: function () {
      var c = 0, yr = this.o.year;
      for (var i = 0; i < this.n; i++) { if (!yr || yr[i] === null || yr[i] <= this.maxYear) { c++; } }
      return c;
    },

    _visible: function (i) {
      var yr = this.o.year;
      return !yr || yr[i] === null || yr[i] <= this.maxYear;
    },

    redraw: function () {
      var map = this._map, size = map.getSize(), z = map.getZoom();
      var ratio = window.devicePixelRatio || 1, c = this._canvas;
      /* a quarter of the view painted beyond each edge, so a drag shows sites before it ends */
      var px = Math.round(size.x / 4), py = Math.round(size.y / 4);
      L.DomUtil.setPosition(c, map.containerPointToLayerPoint([-px, -py]));
      c.width = (size.x + 2 * px) * ratio; c.height = (size.y + 2 * py) * ratio;
      c.style.width = (size.x + 2 * px) + 'px'; c.style.height = (size.y + 2 * py) + 'px';
      var ctx = c.getContext('2d');
      ctx.setTransform(ratio, 0, 0, ratio, px * ratio, py * ratio);
      var scale = Math.pow(2, z), o = map.getPixelBounds().min;
      var s = z >= 14 ? 1 : (z >= 12 ? 0.8 : 0.6);
      var shown = [], i, m = 20 + (z >= this.o.circleZoom ? this._maxCirclePx(z) : 0);
      for (i = 0; i < this.n; i++) {
        var X = this.x0[i] * scale - o.x, Y = this.y0[i] * scale - o.y;
        this.px[i] = X; this.py[i] = Y;
        if (X > -m - px && Y > -m - py && X < size.x + m + px && Y < size.y + m + py && this._visible(i)) {
          shown.push(i);
        }
      }
      if (z >= this.o.circleZoom && this.o.radiusM) { this._circles(ctx, shown, z); }
      this._markers(ctx, shown, s);
      this._index(shown, size);
    },

    _mPerPx: function (z) {  /* metres per CSS pixel at the map's centre latitude */
      return 40075016.686 * Math.cos(this._map.getCenter().lat * Math.PI / 180) / (256 * Math.pow(2, z));
    },

    _maxCirclePx: function (z) {
      var r = this.o.radiusM, best = 0;
      if (!r) { return 0; }
      for (var i = 0; i < this.n; i++) { if (r[i] > best) { best = r[i]; } }
      return best / this._mPerPx(z);
    },

    _byStyle: function (shown) {
      var groups = this.o.styles.map(function () { return []; }), st = this.o.style;
      shown.forEach(function (i) { groups[st[i]].push(i); });
      return groups;
    },

    _circles: function (ctx, shown, z) {
      var per = this._mPerPx(z), r = this.o.radiusM, self = this;
      this._byStyle(shown).forEach(function (ids, k) {
        if (!ids.length) { return; }
        ctx.beginPath();
        ids.forEach(function (i) {
          if (!(r[i] > 0)) { return; }
          var rp = r[i] / per;
          ctx.moveTo(self.px[i] + rp, self.py[i]);
          ctx.arc(self.px[i], self.py[i], rp, 0, 2 * Math.PI);
        });
        var col = self.o.styles[k].circleColour;
        ctx.globalAlpha = 0.07; ctx.fillStyle = col; ctx.fill();
        ctx.globalAlpha = 0.45; ctx.strokeStyle = col; ctx.lineWidth = 1; ctx.stroke();
      });
      ctx.globalAlpha = 1;
    },

    _markers: function (ctx, shown, s) {
      var self = this;
      this._byStyle(shown).forEach(function (ids, k) {
        if (!ids.length) { return; }
        var st = self.o.styles[k], rad = st.fixed ? st.radius : Math.max(2, st.radius * s);
        ctx.beginPath();
        ids.forEach(function (i) {
          ctx.moveTo(self.px[i] + rad, self.py[i]);
          ctx.arc(self.px[i], self.py[i], rad, 0, 2 * Math.PI);
        });
        if (st.fill !== false) { ctx.globalAlpha = st.fillOpacity; ctx.fillStyle = st.fillColor; ctx.fill(); }
        if (st.weight > 0) {
          ctx.globalAlpha = 1; ctx.strokeStyle = st.color; ctx.lineWidth = st.weight;
          ctx.setLineDash(st.dash ? st.dash.split(/[ ,]+/).map(Number) : []);
          ctx.stroke();
        }
      });
      ctx.globalAlpha = 1; ctx.setLineDash([]);
      this._hitR = 4 + Math.max.apply(null, this.o.styles.map(function (st) { return st.radius; }));
    },

    /* A counting sort of the painted sites into CELL-pixel buckets (ids in draw order). */
    _index: function (shown, size) {
      var gw = Math.ceil(size.x / CELL) + 1, gh = Math.ceil(size.y / CELL) + 1;
      var start = new Int32Array(gw * gh + 1), ids = new Int32Array(shown.length);
      var cell = new Int32Array(shown.length), k;
      for (k = 0; k < shown.length; k++) {
        var cx = Math.floor(this.px[shown[k]] / CELL), cy = Math.floor(this.py[shown[k]] / CELL);
        cell[k] = cx < 0 || cy < 0 || cx >= gw || cy >= gh ? -1 : cy * gw + cx;
        if (cell[k] >= 0) { start[cell[k] + 1]++; }
      }
      for (k = 0; k < gw * gh; k++) { start[k + 1] += start[k]; }
      var fill = start.slice(0, gw * gh);
      for (k = 0; k < shown.length; k++) { if (cell[k] >= 0) { ids[fill[cell[k]]++] = shown[k]; } }
      this._grid = {gw: gw, gh: gh, start: start, ids: ids};
    },

    /* The painted site nearest to container point (x, y) within the hit radius, or -1;
       ties go to the later site (painted on top). */
    hit: function (x, y) {
      var g = this._grid;
      if (!g) { return -1; }
      var best = -1, bd = this._hitR * this._hitR, reach = Math.ceil(this._hitR / CELL);
      var cx = Math.floor(x / CELL), cy = Math.floor(y / CELL);
      for (var gy = Math.max(0, cy - reach); gy <= Math.min(g.gh - 1, cy + reach); gy++) {
        for (var gx = Math.max(0, cx - reach); gx <= Math.min(g.gw - 1, cx + reach); gx++) {
          var c = gy * g.gw + gx;
          for (var k = g.start[c]; k < g.start[c + 1]; k++) {
            var i = g.ids[k], dx = this.px[i] - x, dy = this.py[i] - y, d = dx * dx + dy * dy;
            if (d < bd || (d === bd && i > best)) { bd = d; best = i; }
          }
        }
      }
      return best;
    },

    latLng: function (i) { return L.latLng(this.o.lat[i], this.o.lng[i]); },

    /* Opens site i's popup (built now, from the caller's function). */
    openPopup: function (i) {
      this._popup = L.popup({maxWidth: 320, className: 'hs-popup'})
        .setLatLng(this.latLng(i)).setContent(this.o.popup(i));
      this._map.openPopup(this._popup);
      return this._popup;
    },

    _bind: function (box, on) {
      if (!this._handlers) {
        var self = this, down = null, pending = false, last = null;
        var outside = function (e) {
          return !e.target || !e.target.closest || e.target.closest('.leaflet-control, .leaflet-popup');
        };
        this._handlers = {
          mousedown: function (e) { down = [e.clientX, e.clientY]; },
          click: function (e) {
            if (outside(e) || (down && Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]) > 4)) { return; }
            if (e.hsDotsDone) { return; }  /* one popup per click: the first layer that hits */
            var p = self._map.mouseEventToContainerPoint(e), i = self.hit(p.x, p.y);
            if (i >= 0) { e.hsDotsDone = true; self.openPopup(i); }
          },
          mousemove: function (e) {
            last = e;
            if (pending) { return; }
            pending = true;
            L.Util.requestAnimFrame(function () { pending = false; if (self._map) { self._hover(last); } });
          }
        };
      }
      var h = this._handlers;
      Object.keys(h).forEach(function (ev) {
        if (on) { box.addEventListener(ev, h[ev]); } else { box.removeEventListener(ev, h[ev]); }
      });
    },

    _hover: function (e) {
      var map = this._map, p = map.mouseEventToContainerPoint(e);
      var i = e.hsTipDone || (e.target && e.target.closest && e.target.closest('.leaflet-control'))
        ? -1 : this.hit(p.x, p.y);
      if (i >= 0) { e.hsTipDone = true; }  /* one tooltip per hover: the first layer that hits */
      var node = i >= 0 && this.o.tip ? this.o.tip(i) : null;
      if (!node) {
        if (this._tip) { map.closeTooltip(this._tip); this._tipI = -1; }
        return;
      }
      if (this._tipI === i && this._tip && map.hasLayer(this._tip)) { return; }
      this._tip = this._tip || L.tooltip({direction: 'top', offset: [0, -4], className: 'hs-tip'});
      this._tip.setLatLng(this.latLng(i)).setContent(node);
      this._tipI = i;
      map.openTooltip(this._tip);
    }
  });
})();
