/* Test hook injected by the map tests (never shipped in pages): records JS errors and
 * dialogs, and on load writes what Leaflet actually holds into data-hs-* attributes on the body element. */
(function () {
  var errs = [], dialogs = [], START_HASH = location.hash;
  window.__hsErrors = errs; window.__hsDialogs = dialogs;
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { errs.push('resource: ' + (t.src || t.href)); }
    else { errs.push('error: ' + (e.message || e) + ' at ' + e.lineno + ':' + e.colno); }
  }, true);
  window.addEventListener('unhandledrejection', function (e) { errs.push('rejection: ' + e.reason); });
  var ce = console.error;
  console.error = function () {
    errs.push('console: ' + Array.prototype.join.call(arguments, ' '));
    return ce.apply(console, arguments);
  };
  ['alert', 'confirm', 'prompt', 'print'].forEach(function (n) {
    window[n] = function (m) { dialogs.push(n + ':' + m); return null; };
  });
  function visible(sel) {
    var el = document.querySelector(sel);
    if (!el) { return false; }
    var r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' &&
      r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
  }
  /* Real hover: a mousemove at each district's centre, dispatched on whatever element is
     on top there (a panel, a marker canvas...), as a mouse would; then read the tooltip. */
  function hoverProbe(maps, layers) {
    /* For each district: mousemoves at 5 points of its bounding box, each dispatched
       on the element a mouse would hit there; the tooltip texts seen, per district. */
    var b = document.body, out = [], i = 0, k = 0, seen = [];
    if (!maps.length) { b.setAttribute('data-hs-hover-done', 'true'); return; }
    var m = maps[0], box = m.getContainer().getBoundingClientRect();
    m.eachLayer(function (l) {
      var t = l.getTooltip && l.getTooltip();
      if (t && !t.options.permanent) { l.closeTooltip(); }
    });
    document.querySelectorAll('.leaflet-tooltip').forEach(function (t) {
      if (!t.classList.contains('hs-label')) { t.remove(); }
    });
    var PTS = [[0.5, 0.5], [0.3, 0.3], [0.7, 0.3], [0.3, 0.7], [0.7, 0.7]];
    function next() {
      if (k >= 5) { out.push(seen); seen = []; k = 0; i++; }
      if (i >= layers.length || i >= 30) {
        b.setAttribute('data-hs-hover', JSON.stringify(out));
        b.setAttribute('data-hs-hover-done', 'true');
        return;
      }
      var bb = m.latLngToContainerPoint(layers[i].getBounds().getSouthWest());
      var ne = m.latLngToContainerPoint(layers[i].getBounds().getNorthEast());
      var fx = PTS[k][0], fy = PTS[k][1];
      k++;
      var x = box.left + bb.x + (ne.x - bb.x) * fx, y = box.top + bb.y + (ne.y - bb.y) * fy;
      var target = document.elementFromPoint(x, y);
      if (!target) { setTimeout(next, 0); return; }
      target.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true}));
      setTimeout(function () {
        var tips = Array.prototype.filter.call(document.querySelectorAll('.leaflet-tooltip'),
          function (t) { return !t.classList.contains('hs-label'); });
        seen.push(tips.filter(function (t) { return +getComputedStyle(t).opacity > 0; })
          .map(function (t) { return t.textContent.replace(/\s+/g, ' ').trim(); }).join(' || '));
        setTimeout(next, 40);
      }, 40);
    }
    setTimeout(next, 100);
  }
  /* Real mouse at the map's centre (a page opened with "&hsclick" in its hash): a
     mousemove, then a click, on whatever element is on top there; records the tooltip
     and popup texts shown. */
  function centreProbe(m) {
    var b = document.body, box = m.getContainer().getBoundingClientRect();
    var x = box.left + box.width / 2, y = box.top + box.height / 2;
    function fire(type) {
      var t = document.elementFromPoint(x, y);
      if (t) { t.dispatchEvent(new MouseEvent(type, {clientX: x, clientY: y, bubbles: true, button: 0})); }
    }
    function texts(sel) {
      return Array.prototype.map.call(document.querySelectorAll(sel), function (e) {
        return e.textContent.replace(/\s+/g, ' ').trim(); });
    }
    var v = /map=([\d.]+)\/(-?[\d.]+)\/(-?[\d.]+)/.exec(START_HASH);
    if (v) { m.setView([+v[2], +v[3]], +v[1], {animate: false}); }  /* popups auto-panned it */
    m.closePopup();  /* the popups the load probe opened, gone first */
    document.querySelectorAll('.leaflet-popup').forEach(function (p) { p.remove(); });
    var at = document.elementFromPoint(x, y);
    b.setAttribute('data-hs-centre-element', at ? at.tagName + '.' + at.className : '');
    fire('mousemove');
    setTimeout(function () {
      b.setAttribute('data-hs-centre-tips', JSON.stringify(texts('.leaflet-tooltip.hs-tip')));
      fire('mousedown'); fire('mouseup'); fire('click');
      setTimeout(function () {
        b.setAttribute('data-hs-centre-popups', JSON.stringify(texts('.leaflet-popup-content')));
        /* then switch every layer that is off on, through the layer control */
        document.querySelectorAll('.leaflet-control-layers-overlays input').forEach(function (i) {
          if (!i.checked) { i.click(); }
        });
        var on = [];
        m.eachLayer(function (l) { if (l.hsDots) { on.push({kind: l.hsDots.o.kind, n: l.hsDots.n}); } });
        b.setAttribute('data-hs-dots-all-on', JSON.stringify(on));
        b.setAttribute('data-hs-hover-done', 'true');
      }, 50);
    }, 100);
  }
  window.addEventListener('load', function () {
    setTimeout(function () {
      var b = document.body, maps = [], sites = 0, circles = 0, districts = 0, uncovered = 0;
      (window.__hsMaps || []).forEach(function (m) { maps.push(m); });
      var dotLayers = [], siteLayers = [], distLayers = [], ringLayers = [], groups = {}, feats = {}, kinds = {};
      maps.forEach(function (m) {
        m.eachLayer(function (l) {
          var o = l.options || {};
          if (o.hsKind === 'site') { sites++; siteLayers.push(l); }
          if (l.hsDots) { dotLayers.push(l.hsDots); if (l.hsDots.o.kind === 'site') { sites += l.hsDots.countShown(); } }
          if (o.hsKind === 'circle') { circles++; }
          if (o.hsGroup) { groups[o.hsGroup] = (groups[o.hsGroup] || 0) + 1; }
          if (o.hsKind) { kinds[o.hsKind] = (kinds[o.hsKind] || 0) + 1; }
          if (o.hsKind === 'orphan') { ringLayers.push(l); }
          var p = l.feature && l.feature.properties;
          if (p && p.hs_layer && l.getLatLngs) { feats[p.hs_layer] = (feats[p.hs_layer] || 0) + 1; }
          if (p && p.hs_layer === 'district' && l.getLatLngs) { districts++; distLayers.push(l); }
          if (p && p.hs_layer === 'uncovered' && l.getLatLngs) { uncovered++; }
        });
      });
      /* Open up to 30 popups and district tooltips and record the text they show. */
      var popups = [], tooltips = [], ringPopups = [], popupWidth = 0;
      function norm(s) { return s.replace(/\s+/g, ' ').trim(); }
      try {
        siteLayers.slice(0, 30).forEach(function (l) {
          l.openPopup();
          var pe = l.getPopup() && l.getPopup().getElement();
          popups.push(pe ? norm(pe.textContent) : '');
          if (pe) { popupWidth = Math.max(popupWidth, pe.getBoundingClientRect().width); }
          l.closePopup();
        });
        ringLayers.slice(0, 30).forEach(function (l) {
          l.openPopup();
          var pe = l.getPopup() && l.getPopup().getElement();
          ringPopups.push(pe ? norm(pe.textContent) : '');
          l.closePopup();
        });
        distLayers.slice(0, 30).forEach(function (l) {
          var ev = {latlng: l.getBounds().getCenter(), layer: l};
          l.fire('mouseover', ev, true);
          var tip = l.getTooltip && l.getTooltip();
          var te = tip && tip.getElement();
          tooltips.push(te ? norm(te.textContent) : '');
          l.fire('mouseout', ev, true);
        });
      } catch (e) { errs.push('hook: ' + e); }
      b.setAttribute('data-hs-leaflet', window.L ? L.version : 'none');
      b.setAttribute('data-hs-maps', String(maps.length));
      b.setAttribute('data-hs-size', maps.length ? maps[0].getSize().x + 'x' + maps[0].getSize().y +
        ' window ' + innerWidth + 'x' + innerHeight : '');
      b.setAttribute('data-hs-load-ms', String(Math.round(performance.now())));
      b.setAttribute('data-hs-sites', String(sites));
      b.setAttribute('data-hs-circles', String(circles));
      b.setAttribute('data-hs-districts', String(districts));
      b.setAttribute('data-hs-uncovered', String(uncovered));
      b.setAttribute('data-hs-groups', JSON.stringify(groups));
      b.setAttribute('data-hs-features', JSON.stringify(feats));
      b.setAttribute('data-hs-kinds', JSON.stringify(kinds));
      b.setAttribute('data-hs-ring-popups', JSON.stringify(ringPopups));
      var panel = document.querySelector('.hs-summary');
      b.setAttribute('data-hs-panel-text', panel ? norm(panel.textContent) : '');
      b.setAttribute('data-hs-legend', String(visible('.hs-legend')));
      b.setAttribute('data-hs-summary', String(visible('.hs-summary')));
      b.setAttribute('data-hs-curve', String(!!document.querySelector('.hs-summary svg polyline')));
      b.setAttribute('data-hs-layercontrol', String(!!document.querySelector('.leaflet-control-layers')));
      b.setAttribute('data-hs-scale', String(!!document.querySelector('.leaflet-control-scale')));
      b.setAttribute('data-hs-minimap', String(!!document.querySelector('.hs-minimap.leaflet-container')));
      b.setAttribute('data-hs-fullscreen', String(!!document.querySelector('.hs-fs a')));
      b.setAttribute('data-hs-injected', String(!!document.querySelector(
        'img[src="x"], img[onerror], script[data-hostile], [onerror]')));
      b.setAttribute('data-hs-popups', JSON.stringify(popups));
      b.setAttribute('data-hs-tooltips', JSON.stringify(tooltips));
      b.setAttribute('data-hs-errors', JSON.stringify(errs));
      b.setAttribute('data-hs-dialogs', JSON.stringify(dialogs));
      var q = function (sel) { return Array.prototype.map.call(document.querySelectorAll(sel), function (e) { return norm(e.textContent); }); };
      b.setAttribute('data-hs-title', document.title);
      b.setAttribute('data-hs-images', String(document.querySelectorAll('img.leaflet-image-layer').length));
      b.setAttribute('data-hs-popup-width', String(Math.round(popupWidth)));
      b.setAttribute('data-hs-pwned', String(!!window.__pwned));
      b.setAttribute('data-hs-overlays', JSON.stringify(q('.leaflet-control-layers-overlays label')));
      b.setAttribute('data-hs-labels', JSON.stringify(q('.hs-label')));
      var lg = document.querySelector('.hs-legend');
      b.setAttribute('data-hs-legend-text', lg ? norm(lg.textContent) : '');
      b.setAttribute('data-hs-hash', location.hash);
      if (maps.length) {
        var c = maps[0].getCenter();
        b.setAttribute('data-hs-view', maps[0].getZoom() + '/' + c.lat.toFixed(4) + '/' + c.lng.toFixed(4));
      }
      var note = document.getElementById('hs-basemap-note');
      b.setAttribute('data-hs-note', note && !note.hidden ? norm(note.textContent) : '');
      b.setAttribute('data-hs-tiles', String(document.querySelectorAll('.leaflet-tile').length));
      var sc = document.querySelector('.leaflet-control-scale');
      b.setAttribute('data-hs-scale-text', sc ? norm(sc.textContent) : '');
      b.setAttribute('data-hs-open-details', String(document.querySelectorAll('.hs-panel details[open]').length));
      b.setAttribute('data-hs-lang', document.documentElement.lang);
      var vis = {};
      ['.leaflet-control-zoom', '.leaflet-control-layers', '.hs-fs', '.hs-minimap', '.hs-legend',
       '.leaflet-control-scale', '.hs-north', '.hs-print-head', '.hs-summary'].forEach(function (sel) {
        vis[sel] = visible(sel);
      });
      b.setAttribute('data-hs-visible', JSON.stringify(vis));
      var imgs = Array.prototype.map.call(document.querySelectorAll('img.leaflet-tile'), function (i) { return i.src; });
      b.setAttribute('data-hs-tile-urls', JSON.stringify(imgs.slice(0, 3)));
      var yr = document.querySelector('.hs-years input');
      if (yr && maps.length) {
        var counts = {};
        [yr.min, yr.max].forEach(function (v) {
          yr.value = v; yr.dispatchEvent(new Event('input'));
          var n = 0;
          maps[0].eachLayer(function (l) {
            if ((l.options || {}).hsKind === 'site') { n++; }
            if (l.hsDots && l.hsDots.o.kind === 'site') { n += l.hsDots.countShown(); }
          });
          counts[v] = n;
        });
        b.setAttribute('data-hs-year-counts', JSON.stringify(counts));
      }
      b.setAttribute('data-hs-dots', JSON.stringify(dotLayers.map(function (d) {
        var sz = maps[0].getSize();
        return {kind: d.o.kind, n: d.n, shown: d.countShown(), centre: d.hit(sz.x / 2, sz.y / 2)};
      })));
      if (/hsclick/.test(location.hash) && maps.length) { centreProbe(maps[0]); }
      else { hoverProbe(maps, distLayers); }
      b.setAttribute('data-hs-done', 'true');
    }, 50);
  });
})();
