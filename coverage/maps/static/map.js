/* Hotspot map pages: draws everything from the page's one JSON blob (#hs-data).
 *
 * Data strings (names, labels, ids) are only ever shown as text: DOM nodes get them
 * through textContent; the one Leaflet API that takes HTML (layer-control names,
 * attributions) gets them through esc(). Nothing from the data is evaluated.
 */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('hs-data').textContent);
  var T = D.js;
  var LOCALE = D.lang === 'zh' ? 'zh-CN' : 'en-GB';

  function esc(s) {
    return String(s).replace(/[&<>"'`$]/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function bad(text) { return el('b', 'hs-bad', text); }
  function num(v, digits) {
    return (+v).toLocaleString(LOCALE, {maximumFractionDigits: digits});
  }
  function fmt(v, kind, row) {
    if (kind === 'coords') { return row[1].toFixed(5) + ', ' + row[0].toFixed(5); }
    if (v === null || v === undefined || v === '') { return '–'; }
    if (kind === 'int') { return num(Math.round(v), 0); }
    if (kind === 'year') { return String(Math.round(v)); }
    if (kind === 'pct') { return num(100 * v, 2) + (D.lang === 'zh' ? '%' : ' %'); }
    if (kind === 'm') { return num(Math.round(v), 0) + ' m'; }
    if (kind === 'km2') { return num(v / 1e6, 3) + ' km²'; }
    if (kind === 'num') { return num(v, 2); }
    return String(v);
  }
  function table(rows, cls) {
    var t = el('table', cls);
    rows.forEach(function (r) {
      var tr = el('tr');
      tr.appendChild(el('th', null, r[0]));
      var td = el('td');
      (Array.isArray(r[1]) ? r[1] : [r[1]]).forEach(function (part) {
        td.appendChild(typeof part === 'object' ? part : document.createTextNode(String(part)));
      });
      tr.appendChild(td);
      t.appendChild(tr);
    });
    return t;
  }

  /* ---------------------------------------------------------------- the map */
  var map = L.map('hs-map', {preferCanvas: true, zoomSnap: 0.25});
  window.__hsMaps = [map];
  var control = L.control.layers(null, null, {collapsed: true, position: 'topright'});
  var noteBox = document.getElementById('hs-basemap-note');

  function say(text) {
    if (noteBox) { noteBox.textContent = text; noteBox.hidden = false; }
  }

  function tiandituKey() {
    var m = /(?:^#|&)tk=([0-9A-Za-z]+)/.exec(location.hash);
    if (m) { return m[1]; }
    try { return localStorage.getItem('hotspots.tianditu_key'); } catch (e) { return null; }
  }

  function keyForm() {
    if (!noteBox) { return; }
    noteBox.hidden = false;
    noteBox.textContent = T.key_needed + ' ';
    var input = el('input');
    input.placeholder = T.key_prompt;
    input.size = 20;
    input.addEventListener('change', function () {
      var k = input.value.replace(/[^0-9A-Za-z]/g, '');
      if (!k) { return; }
      try { localStorage.setItem('hotspots.tianditu_key', k); } catch (e) { /* private mode */ }
      location.reload();
    });
    noteBox.appendChild(input);
  }

  function addBasemap() {
    var b = D.basemap;
    if (!b) { return; }
    var key = b.needs_key ? tiandituKey() : null;
    if (b.needs_key && !key) { keyForm(); return; }
    var failed = 0, loaded = 0;
    b.layers.forEach(function (spec) {
      var url = spec.url.replace('{tk}', key || '');
      var layer = L.tileLayer(url, {attribution: esc(spec.attribution || ''), maxZoom: 19,
                                    subdomains: spec.subdomains || 'abc'});
      layer.on('tileerror', function () {
        failed++;
        if (failed === 4 && !loaded) { say(T.tiles_failed); map.getContainer().classList.add('hs-nobase'); }
      });
      layer.on('tileload', function () { loaded++; });
      layer.addTo(map);
    });
  }

  /* ---------------------------------------------------------------- layers */
  function fieldRows(fields, props) {
    return table(fields.filter(function (f) { return props[f[0]] !== undefined && props[f[0]] !== null; })
      .map(function (f) { return [f[1], props[f[0]]]; }), 'hs-pop');
  }

  function geojsonLayer(spec) {
    return L.geoJSON(spec.data, {
      interactive: !!spec.tooltip,
      style: function (f) {
        var c = f.properties.colour || spec.colour;
        return {color: spec.stroke || c, weight: spec.weight, opacity: spec.opacity || 0.9,
                fill: spec.fill !== false, fillColor: c, fillOpacity: spec.fillOpacity,
                dashArray: spec.dash || null};
      },
      onEachFeature: function (f, layer) {
        if (spec.tooltip) {
          layer.bindTooltip(function () { return fieldRows(spec.tooltip, f.properties); },
                            {sticky: true});
        }
        if (spec.highlight) {
          layer.on('mouseover', function () { layer.setStyle({weight: spec.weight + 1.5}); });
          layer.on('mouseout', function () { layer.setStyle({weight: spec.weight}); });
        }
      }
    });
  }

  /* A polygon layer with a cell-resolution image for street zoom (spec.fine): from that
     zoom the image shows (covered cells as holes) and the polygons keep only their
     tooltips (transparent fill). */
  function withFineImage(spec, geo) {
    var f = spec.fine, grp = L.featureGroup([geo]);
    var img = L.imageOverlay(f.url, f.bounds, {opacity: f.opacity, interactive: false,
                                               className: 'hs-pixelated'});
    function apply() {
      var fine = map.getZoom() >= f.zoom;
      if (fine && !grp.hasLayer(img)) { grp.addLayer(img); img.bringToBack(); }
      if (!fine && grp.hasLayer(img)) { grp.removeLayer(img); }
      geo.setStyle({fillOpacity: fine ? 0 : spec.fillOpacity, opacity: fine ? 0 : 0.9});
    }
    grp.on('add', apply);
    map.on('zoomend', function () { if (map.hasLayer(grp)) { apply(); } });
    return grp;
  }

  function labelsLayer(spec) {
    var g = L.layerGroup();
    spec.labels.forEach(function (lab) {
      var box = el('div');
      lab.lines.forEach(function (line, i) { box.appendChild(el('div', i ? 'sub' : null, line)); });
      g.addLayer(L.tooltip({permanent: true, direction: 'center', className: 'hs-label',
                            interactive: false}).setLatLng([lab.lat, lab.lon]).setContent(box));
    });
    return g;
  }

  function imageLayer(spec) {
    return L.imageOverlay(spec.url, spec.bounds, {opacity: spec.opacity, interactive: false,
                                                 className: 'hs-pixelated'});
  }

  var registry = [];  /* sites the network layers ring: {ll, net, name, popup} */
  var dated = [];     /* sites with a roll-out year: {year, parts: [[group, layer]...]} */
  var yearHooks = []; /* big layers' year filters: function (year) */
  var MANY_SITES = 2000, CIRCLE_ZOOM = 14;

  /* "Map as of year": sites installed after the chosen year are hidden. */
  function yearControl() {
    var years = D.years || [];
    if (years.length < 2) { return; }
    var c = L.control({position: 'topleft'});
    c.onAdd = function () {
      var d = L.DomUtil.create('div', 'hs-panel hs-years hs-noprint');
      var lab = el('label', null, T.as_of + ': ');
      var out = el('b', null, T.all_years);
      var input = el('input');
      input.type = 'range'; input.min = years[0]; input.max = years[years.length - 1];
      input.step = 1; input.value = input.max;
      input.addEventListener('input', function () {
        var y = +input.value;
        out.textContent = y === +input.max ? T.all_years : String(y);
        window.__hsYear = y;
        yearHooks.forEach(function (h) { h(y === +input.max ? Infinity : y); });
        dated.forEach(function (s) {
          s.parts.forEach(function (p) {
            if (s.year <= y) { if (!p[0].hasLayer(p[1])) { p[0].addLayer(p[1]); } }
            else if (p[0].hasLayer(p[1])) { p[0].removeLayer(p[1]); }
          });
        });
      });
      lab.appendChild(out);
      d.appendChild(lab);
      d.appendChild(el('br'));
      d.appendChild(input);
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    c.addTo(map);
  }

  /* Reads a site table's rows: network facts, and the popup (DOM, text only). */
  function siteReader(cols) {
    function ix(key) { return cols.findIndex(function (c) { return c[0] === key; }); }
    var N = {band: ix('band'), ch: ix('channel'), conf: ix('channel_conflicts'),
             wired: ix('wired'), hops: ix('hops'), orphan: ix('orphan'),
             users: ix('concurrent_users'), aps: ix('aps_needed'), extra: ix('extra_aps')};
    function val(row, i) { return i >= 0 && row[i] !== undefined ? row[i] : null; }
    function net(row) {
      return {band: val(row, N.band), ch: val(row, N.ch), conf: val(row, N.conf) || 0,
              wired: val(row, N.wired), hops: val(row, N.hops), orphan: val(row, N.orphan) === 1,
              users: val(row, N.users), aps: val(row, N.aps), extra: val(row, N.extra) || 0};
    }
    function netRows(row) {
      var k = net(row), out = [];
      if (N.band >= 0 || N.ch >= 0) {
        var r = [];
        if (k.band !== null && k.band !== '') { r.push(k.band + ' ' + T.ghz); }
        if (k.ch !== null) { r.push(T.channel + ' ' + k.ch); }
        var radio = [r.join(', ') || '–'];
        if (k.conf > 0) { radio.push(', ', bad(k.conf + ' ' + T.neighbours)); }
        out.push([T.radio, radio]);
      }
      if (N.orphan >= 0 || N.wired >= 0 || N.hops >= 0) {
        var b;
        if (k.orphan) { b = bad(T.orphan); }
        else if (k.wired === 1 || k.hops === 0) { b = T.wired; }
        else if (k.hops !== null) { b = T.mesh + ', ' + k.hops + ' ' + T.hops; }
        else { b = T.mesh; }
        out.push([T.backhaul, b]);
      }
      if (k.users !== null) { out.push([T.users, fmt(k.users, 'int') + ' ' + T.expected]); }
      if (k.aps !== null) {
        var a = [k.aps + ' ' + T.aps_needed];
        if (k.extra > 0) { a.push(', ', bad(T.overloaded + ': ' + k.extra + ' ' + T.extra_aps)); }
        out.push([T.aps, a]);
      }
      return out;
    }
    function popup(row) {
      var rows = [];
      for (var i = 2; i < cols.length; i++) {
        if (cols[i][2].indexOf('hide') === 0) { continue; }
        var v = row[i];
        if ((v === null || v === '') && cols[i][3]) { continue; }
        rows.push([cols[i][1], fmt(v, cols[i][2], row)]);
      }
      return table(rows.concat(netRows(row)), 'hs-pop');
    }
    return {ix: ix, net: net, popup: popup};
  }

  /* A big layer (more than MANY_SITES rows): all its sites on one canvas (L.HsDots),
     popups and tooltips built on demand, coverage circles painted from CIRCLE_ZOOM. */
  function dotsLayer(spec, R) {
    var t = spec.table, st = spec.style, rows = t.rows, ix = R.ix;
    var iRadius = ix('radius_m'), iSource = ix('source_key'), iExisting = ix('existing_key');
    var iName = ix('name'), iStatus = ix('status_key'), iColour = ix('colour_key'), iYear = ix('year_key');
    var n = rows.length, lat = new Float64Array(n), lng = new Float64Array(n), style = new Int32Array(n);
    var radiusM = st.circles && iRadius >= 0 ? new Float64Array(n) : null;
    var year = iYear >= 0 ? new Array(n) : null, styles = [], keys = {};
    for (var i = 0; i < n; i++) {
      var row = rows[i];
      lat[i] = row[1]; lng[i] = row[0];
      if (radiusM) { radiusM[i] = +row[iRadius] || 0; }
      if (year) { year[i] = row[iYear] === null || row[iYear] === undefined ? null : +row[iYear]; }
      var synthetic = !st.flat && iSource >= 0 && row[iSource] === 'synthetic';
      var existing = !st.flat && iExisting >= 0 && row[iExisting] === 1;
      var forbidden = iStatus >= 0 && row[iStatus] === 'forbidden';
      var colour = iColour >= 0 && row[iColour] ? String(row[iColour]) : st.colour;
      var key = colour + '|' + (synthetic ? 1 : 0) + (existing ? 1 : 0) + (forbidden ? 1 : 0);
      if (!(key in keys)) {
        keys[key] = styles.length;
        /* no white outline on a big layer's plain dots: thousands of them would merge
           into a white sheet over the districts at city zoom */
        styles.push({radius: existing ? st.radius + 1 : st.radius, fixed: !!st.fixed,
                     color: forbidden ? '#b00020' : (existing ? '#000' : colour),
                     weight: synthetic || existing || forbidden ? 2 : 0,
                     fillColor: synthetic ? '#fff' : colour, fillOpacity: st.fillOpacity,
                     circleColour: colour});
      }
      style[i] = keys[key];
      if (st.register) { registry.push({ll: [row[1], row[0]], net: R.net(row), row: row, R: R, name: iName >= 0 ? row[iName] : null}); }
    }
    var dots = new L.HsDots({
      lat: lat, lng: lng, year: year, radiusM: radiusM, style: style, styles: styles,
      circleZoom: CIRCLE_ZOOM, kind: st.kind,
      popup: function (k) { return R.popup(rows[k]); },
      tip: iName >= 0 ? function (k) { return rows[k][iName] ? el('span', null, rows[k][iName]) : null; } : null
    });
    if (year) { yearHooks.push(function (y) { dots.setMaxYear(y); }); }
    dots.hsDots = dots;
    return dots;
  }

  /* A table sent by columns (layers.py _columnar) as rows again. */
  function rowsOf(t) {
    var rows = new Array(t.n), cs = t.columns;
    for (var i = 0; i < t.n; i++) {
      var r = new Array(cs.length);
      for (var j = 0; j < cs.length; j++) { r[j] = cs[j].dict ? cs[j].dict[cs[j].codes[i]] : cs[j][i]; }
      rows[i] = r;
    }
    return {cols: t.cols, rows: rows};
  }

  /* A layer whose table came as a JSON string (off at start, big): parsed and built
     the first time it is switched on. */
  function lazyPoints(spec) {
    var grp = L.layerGroup(), built = null;
    grp.on('add', function () {
      if (built) { return; }
      spec.table = rowsOf(JSON.parse(spec.table_json));
      spec.table_json = null;
      built = pointsLayer(spec);
      grp.addLayer(built);
    });
    return grp;
  }

  function pointsLayer(spec) {
    if (spec.table_json) { return lazyPoints(spec); }
    var t = spec.table, st = spec.style, cols = t.cols, grp = L.featureGroup();
    var R = siteReader(cols), ix = R.ix, net = R.net, popup = R.popup;
    if (t.rows.length > MANY_SITES) { return dotsLayer(spec, R); }
    var iRadius = ix('radius_m'), iSource = ix('source_key'), iExisting = ix('existing_key');
    var iName = ix('name'), iStatus = ix('status_key');
    var iColour = ix('colour_key'), iYear = ix('year_key');
    var markers = [];
    /* Many sites: their coverage circles join the map only from street zoom (CIRCLE_ZOOM),
       where they are more than a pixel wide, so a city of sites stays fast. */
    var circles = L.layerGroup(), many = t.rows.length > MANY_SITES;
    grp.addLayer(circles);
    t.rows.forEach(function (row) {
      var ll = [row[1], row[0]];
      var synthetic = !st.flat && iSource >= 0 && row[iSource] === 'synthetic';
      var existing = !st.flat && iExisting >= 0 && row[iExisting] === 1;
      var forbidden = iStatus >= 0 && row[iStatus] === 'forbidden';
      var colour = iColour >= 0 && row[iColour] ? row[iColour] : st.colour;
      var parts = [];
      if (st.circles && iRadius >= 0 && row[iRadius] > 0) {
        parts.push([circles, L.circle(ll, {radius: row[iRadius], color: colour, weight: 1, opacity: 0.45,
                                           fillColor: colour, fillOpacity: 0.07, interactive: false,
                                           hsKind: 'circle'})]);
      }
      var m = L.circleMarker(ll, {
        radius: existing ? st.radius + 1 : st.radius,
        color: forbidden ? '#b00020' : (existing ? '#000' : (synthetic ? colour : '#fff')),
        weight: synthetic || existing || forbidden ? 2 : (st.flat ? 0 : 1),
        fillColor: synthetic ? '#fff' : colour,
        fillOpacity: st.fillOpacity, hsKind: st.kind, hsGroup: st.group});
      m.bindPopup(function () { return popup(row); }, {maxWidth: 320, className: 'hs-popup'});
      if (iName >= 0 && row[iName]) {
        m.bindTooltip(function () { return el('span', null, row[iName]); },
                      {direction: 'top', offset: [0, -4], className: 'hs-tip'});
      }
      m.hsBase = m.options.radius;
      if (!st.fixed) { markers.push(m); }
      parts.push([grp, m]);
      parts.forEach(function (p) { p[0].addLayer(p[1]); });
      if (iYear >= 0 && row[iYear] !== null) { dated.push({year: row[iYear], parts: parts}); }
      if (st.register) {
        registry.push({ll: ll, net: net(row), row: row, R: R, name: iName >= 0 ? row[iName] : null});
      }
    });
    if (many) {
      var showCircles = function () {
        var on = map.getZoom() >= CIRCLE_ZOOM;
        if (on && !grp.hasLayer(circles)) { grp.addLayer(circles); }
        if (!on && grp.hasLayer(circles)) { grp.removeLayer(circles); }
      };
      map.whenReady(showCircles);
      map.on('zoomend', showCircles);
    }
    var last = null;
    function resize() {
      var z = map.getZoom(), s = z >= 14 ? 1 : (z >= 12 ? 0.8 : 0.6);
      if (s === last) { return; }
      last = s;
      markers.forEach(function (m) { m.setRadius(Math.max(2, m.hsBase * s)); });
    }
    map.whenReady(resize);
    map.on('zoomend', resize);
    return grp;
  }

  /* Rings (orphans, issues) or channel dots on the registered sites: Leaflet markers,
     or one L.HsDots canvas when there are more than MANY_SITES of them. */
  function netLayer(spec) {
    var c = spec.config, marks = [], styles = [];
    var tests = {
      orphan: function (k) { return k.orphan; },
      conflict: function (k) { return k.conf > 0; },
      overload: function (k) { return k.extra > 0; }
    };
    (c.rings || []).forEach(function (r) {
      styles.push({radius: r.radius, color: r.colour, weight: r.weight, dash: r.dash || null,
                   fill: false, fixed: true, kind: r.kind});
    });
    var chanStyle = {};
    registry.forEach(function (s) {
      (c.rings || []).forEach(function (r, k) {
        if (tests[r.test](s.net)) { marks.push([s, k]); }
      });
      if (c.channels && s.net.ch !== null) {
        var colour = c.channels[String(s.net.ch)] || '#777';
        if (!(colour in chanStyle)) {
          chanStyle[colour] = styles.length;
          styles.push({radius: 4, color: '#fff', weight: 0.5, fillColor: colour, fillOpacity: 0.95,
                       fixed: true, kind: c.kind});
        }
        marks.push([s, chanStyle[colour]]);
      }
    });
    if (marks.length > MANY_SITES) {
      var dots = new L.HsDots({
        lat: marks.map(function (m) { return m[0].ll[0]; }), lng: marks.map(function (m) { return m[0].ll[1]; }),
        year: null, radiusM: null, style: marks.map(function (m) { return m[1]; }), styles: styles,
        circleZoom: Infinity, kind: spec.config.kind || 'ring',
        popup: function (k) { return marks[k][0].R.popup(marks[k][0].row); },
        tip: function (k) { return marks[k][0].name ? el('span', null, marks[k][0].name) : null; }
      });
      dots.hsDots = dots;
      return dots;
    }
    var grp = L.featureGroup();
    marks.forEach(function (m) {
      var s = m[0], st = styles[m[1]];
      var mk = L.circleMarker(s.ll, {radius: st.radius, color: st.color, weight: st.weight,
                                     dashArray: st.dash, fill: st.fill !== false,
                                     fillColor: st.fillColor, fillOpacity: st.fillOpacity, hsKind: st.kind});
      mk.bindPopup(function () { return s.R.popup(s.row); }, {maxWidth: 320, className: 'hs-popup'});
      if (s.name) { mk.bindTooltip(function () { return el('span', null, s.name); }, {direction: 'top'}); }
      grp.addLayer(mk);
    });
    return grp;
  }

  function geojsonOrFine(spec) {
    var geo = geojsonLayer(spec);
    return spec.fine ? withFineImage(spec, geo) : geo;
  }

  var BUILD = {geojson: geojsonOrFine, labels: labelsLayer, image: imageLayer,
               points: pointsLayer, net: netLayer};

  function swatch(s) {
    if (!s) { return ''; }
    var shape = s.ring ? 'background:transparent;border:2px ' + (s.dash ? 'dashed ' : 'solid ') + s.colour
                       : 'background:' + s.colour;
    return '<span class="hs-sw" style="' + esc(shape) + '"></span>';
  }

  function addLayers() {
    D.layers.forEach(function (spec) {
      var layer = BUILD[spec.kind](spec);
      layer.hsSpec = spec;
      if (spec.show) { layer.addTo(map); }
      if (spec.name) { control.addOverlay(layer, (spec.swatches || []).map(swatch).join('') + esc(spec.name)); }
    });
  }

  /* ---------------------------------------------------------------- furniture */
  function panel(pos, node) {
    var c = L.control({position: pos});
    c.onAdd = function () {
      L.DomEvent.disableClickPropagation(node);
      L.DomEvent.disableScrollPropagation(node);
      return node;
    };
    c.addTo(map);
  }

  function fullscreenButton() {
    var fs = L.control({position: 'topleft'});
    fs.onAdd = function () {
      var d = L.DomUtil.create('div', 'leaflet-bar hs-fs hs-noprint');
      var a = L.DomUtil.create('a', '', d);
      a.href = '#'; a.title = T.full_screen; a.setAttribute('role', 'button');
      /* a constant icon (no data in it) */
      a.innerHTML = '<svg width="16" height="16" viewBox="0 0 16 16" style="vertical-align:middle">' +
        '<path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5" fill="none" stroke="#333" stroke-width="2"/></svg>';
      L.DomEvent.on(a, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        var box = map.getContainer();
        if (document.fullscreenElement) { document.exitFullscreen(); }
        else if (box.requestFullscreen) { box.requestFullscreen(); }
      });
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    fs.addTo(map);
    document.addEventListener('fullscreenchange', function () { map.invalidateSize(); });
  }

  function northArrow() {
    var n = L.control({position: 'bottomleft'});
    n.onAdd = function () {
      var d = L.DomUtil.create('div', 'hs-north');
      d.appendChild(el('div', 'arrow', '▲'));
      d.appendChild(el('div', null, T.north));
      return d;
    };
    n.addTo(map);
  }

  function minimap() {
    var mm = L.control({position: 'bottomright'});
    mm.onAdd = function () {
      var d = L.DomUtil.create('div', 'hs-minimap hs-noprint');
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    mm.addTo(map);
    var mini = L.map(mm.getContainer(), {attributionControl: false, zoomControl: false,
      dragging: false, scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false,
      keyboard: false, touchZoom: false, preferCanvas: true});
    mini.setView(map.getCenter(), Math.max(0, map.getZoom() - 4), {animate: false});
    if (D.outline) {
      L.geoJSON(D.outline, {interactive: false,
        style: {color: '#444', weight: 1, fill: true, fillColor: '#fff', fillOpacity: 0.5}}).addTo(mini);
    }
    var box = L.rectangle(D.bounds, {color: '#d62728', weight: 1.5, fillOpacity: 0.1,
                                     interactive: false}).addTo(mini);
    function sync() {
      mini.setView(map.getCenter(), Math.max(0, map.getZoom() - 4), {animate: false});
      box.setBounds(map.getBounds());
    }
    map.on('moveend zoomend', sync);
    mini.on('click', function (e) { map.panTo(e.latlng); });
    map.whenReady(function () { setTimeout(function () { mini.invalidateSize(); sync(); }, 0); });
  }

  /* ---------------------------------------------------------------- view & hash */
  var narrow = window.innerWidth < 700;

  function fitPadding() {
    if (narrow) { return {padding: [10, 10]}; }
    var s = document.getElementById('hs-summary'), l = document.getElementById('hs-legend');
    var right = s ? s.offsetWidth + 20 : 10, left = l ? l.offsetWidth + 20 : 10;
    return {paddingTopLeft: [left, 10], paddingBottomRight: [right, 10]};
  }

  function fitAll(bounds) {
    var opts = fitPadding();
    var size = map.getSize();
    var pl = (opts.paddingTopLeft || [10])[0], pr = (opts.paddingBottomRight || [10])[0];
    if (size.x - pl - pr < size.x * 0.4) { opts = {padding: [10, 10]}; }
    opts.animate = false;
    map.fitBounds(bounds, opts);
  }

  function viewFromHash() {
    var m = /(?:^#|&)map=([\d.]+)\/(-?[\d.]+)\/(-?[\d.]+)/.exec(location.hash);
    if (!m) { return false; }
    var z = +m[1], lat = +m[2], lon = +m[3];
    if (!isFinite(z) || !isFinite(lat) || !isFinite(lon)) { return false; }
    map.setView([lat, lon], z, {animate: false});
    return true;
  }

  function writeHash() {
    var c = map.getCenter(), z = map.getZoom();
    var part = 'map=' + (Math.round(z * 100) / 100) + '/' + c.lat.toFixed(5) + '/' + c.lng.toFixed(5);
    var rest = location.hash.replace(/^#/, '').split('&').filter(function (p) {
      return p && p.indexOf('map=') !== 0;
    });
    var hash = '#' + [part].concat(rest).join('&');
    if (hash !== location.hash) { history.replaceState(null, '', hash); }
  }

  /* ---------------------------------------------------------------- go */
  var summary = document.getElementById('hs-summary');
  var legend = document.getElementById('hs-legend');
  if (narrow) {
    [summary, legend].forEach(function (p) {
      if (p) { p.querySelectorAll('details').forEach(function (d) { d.open = false; }); }
    });
  }
  fullscreenButton();
  if (summary) { panel('topright', summary); }
  control.addTo(map);
  if (legend) { panel('bottomleft', legend); }
  L.control.scale({imperial: false, metric: true, position: 'bottomleft'}).addTo(map);
  northArrow();
  var fromHash = viewFromHash();
  if (!fromHash) { fitAll(D.view); }
  if (!D.basemap) { map.getContainer().classList.add('hs-nobase'); }
  addBasemap();
  addLayers();
  yearControl();
  minimap();
  map.on('moveend', writeHash);
  writeHash();
  window.addEventListener('hashchange', function () { viewFromHash(); });
  window.addEventListener('beforeprint', function () {
    map.invalidateSize();
    map.fitBounds(D.bounds, {padding: [4, 4], animate: false});
  });
  /* Until the user touches the map, keep the whole plan in view when the page is resized. */
  var touched = false;
  ['mousedown', 'wheel', 'keydown', 'touchstart'].forEach(function (ev) {
    map.getContainer().addEventListener(ev, function () { touched = true; }, {passive: true});
  });
  map.on('resize', function () { if (!touched && !fromHash) { fitAll(D.view); } });
})();
