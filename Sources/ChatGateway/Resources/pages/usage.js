/*
 * The operators' usage view (GET /cache/usage, signed in). Reads /v1/usage with the page's session cookie and
 * draws its charts as SVG built here (no library): chats per day stacked by system, tokens per day, cost per day
 * per currency, the failure rate, Dify's latency p50 and p95, and the ten users with the most tokens. The period
 * and the system are kept in the address bar; every chart has a table of its exact figures; the colours are the
 * Okabe–Ito palette, readable with colour blindness, in light and dark mode.
 */
(function () {
  'use strict';

  var root = document.documentElement;
  var strings = JSON.parse(root.getAttribute('data-strings') || '{}');
  var language = root.getAttribute('lang') || 'en';
  var number = new Intl.NumberFormat(language);
  var SVG = 'http://www.w3.org/2000/svg';
  var PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];
  var DAY = 86400000;
  var ui = {};

  document.addEventListener('DOMContentLoaded', start);

  function start() {
    ['usage-filters', 'usage-days', 'usage-from', 'usage-to', 'usage-system', 'usage-csv', 'usage', 'usage-status',
      'usage-charts', 'top-users'].forEach(function (id) {
      ui[id.replace(/-([a-z])/g, function (_, letter) { return letter.toUpperCase(); })] = document.getElementById(id);
    });
    ui.usageDays.addEventListener('change', showCustom);
    ui.usageFilters.addEventListener('submit', function (event) {
      event.preventDefault();
      var params = new URLSearchParams();
      var lang = new URLSearchParams(window.location.search).get('lang');
      if (lang) params.set('lang', lang);
      params.set('days', ui.usageDays.value);
      if (ui.usageDays.value === 'custom') {
        if (ui.usageFrom.value) params.set('from_date', ui.usageFrom.value);
        if (ui.usageTo.value) params.set('to_date', ui.usageTo.value);
      }
      if (ui.usageSystem.value.trim()) params.set('system_id', ui.usageSystem.value.trim());
      window.history.pushState(null, '', '?' + params.toString());
      load();
    });
    window.addEventListener('popstate', function () { window.location.reload(); });
    showCustom();
    load();
  }

  function showCustom() {
    var custom = ui.usageDays.value === 'custom';
    document.querySelectorAll('.usage-custom').forEach(function (field) { field.hidden = !custom; });
  }

  /* The report's query for the address bar's period and system. */
  function period() {
    var params = new URLSearchParams(window.location.search);
    var query = new URLSearchParams();
    var days = params.get('days') || (params.get('from_date') ? 'custom' : '30');
    if (days !== 'custom' && !(Number(days) >= 1 && Number(days) <= 400)) days = '30';
    if (days === 'custom') {
      if (params.get('from_date')) query.set('from_date', params.get('from_date'));
      if (params.get('to_date')) query.set('to_date', params.get('to_date'));
    } else {
      var today = new Date();
      var from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - (Number(days) - 1) * DAY);
      query.set('from_date', from.toISOString().slice(0, 10));
      query.set('to_date', today.toISOString().slice(0, 10));
    }
    if (params.get('system_id')) query.set('system_id', params.get('system_id'));
    return query;
  }

  // A report refused because others are running (429/503 with Retry-After) is asked for again, a few times.
  function api(query, tries) {
    if (tries === undefined) tries = 3;
    return fetch('/v1/usage?' + query.toString(), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 401) { window.location.assign('/cache' + window.location.search); throw new Error(''); }
        var wait = Number(response.headers.get('Retry-After'));
        if ((response.status === 429 || response.status === 503) && tries > 1 && wait > 0 && wait <= 10) {
          return new Promise(function (resolve) { setTimeout(resolve, wait * 1000); })
            .then(function () { return api(query, tries - 1); });
        }
        if (!response.ok) throw new Error('');
        return response.json();
      });
  }

  function load() {
    var query = period();
    var byDay = new URLSearchParams(query); byDay.set('group_by', 'system,day');
    var byUser = new URLSearchParams(query); byUser.set('group_by', 'system,user');
    var csv = new URLSearchParams(byDay); csv.set('format', 'csv');
    ui.usageCsv.href = '/v1/usage?' + csv.toString();
    ui.usage.setAttribute('aria-busy', 'true');
    ui.usageStatus.textContent = strings.loading;
    Promise.all([api(byDay), api(byUser)]).then(function (answers) {
      draw(answers[0]);
      topUsers(answers[1].rows);
      ui.usage.setAttribute('aria-busy', 'false');
    }, function () {
      ui.usageStatus.textContent = strings.loadFailed;
      ui.usage.setAttribute('aria-busy', 'false');
    });
  }

  /* ---- the charts ---- */

  function days(from, to) {
    var list = [];
    for (var t = Date.parse(from + 'T00:00:00Z'); t <= Date.parse(to + 'T00:00:00Z'); t += DAY) {
      list.push(new Date(t).toISOString().slice(0, 10));
    }
    return list;
  }

  function draw(report) {
    var dayList = days(report.from_date, report.to_date);
    var rows = report.rows;
    var totals = report.totals;
    var status = strings.totals.replace('{chats}', number.format(totals.chats)).replace('{tokens}', number.format(totals.total_tokens));
    if (totals.unknown_usage) status += ' ' + strings.unknownUsage.replace('{count}', number.format(totals.unknown_usage));
    ui.usageStatus.textContent = totals.chats ? status : strings.noData;
    ui.usageCharts.replaceChildren();

    var systems = Array.from(new Set(rows.map(function (row) { return row.system_id; }))).sort();
    function perDay(pick, filter) {
      var values = {};
      rows.forEach(function (row) {
        if (filter && !filter(row)) return;
        values[row.day] = (values[row.day] || 0) + pick(row);
      });
      return dayList.map(function (day) { return values[day] || 0; });
    }
    chart({
      title: strings.chatsPerDay, unit: strings.unitChats, days: dayList, stacked: true,
      series: systems.map(function (system, index) {
        return { name: system, color: PALETTE[index % PALETTE.length],
          values: perDay(function (row) { return row.chats; }, function (row) { return row.system_id === system; }) };
      })
    });
    chart({
      title: strings.tokensPerDay, unit: strings.unitTokens, days: dayList,
      series: [{ name: strings.tokens, color: PALETTE[0], values: perDay(function (row) { return row.total_tokens; }) }]
    });
    var currencies = Array.from(new Set(rows.map(function (row) { return row.currency; }).filter(Boolean))).sort();
    currencies.forEach(function (currency, index) {
      chart({
        title: strings.costPerDay.replace('{currency}', currency), unit: currency, days: dayList, decimals: 4,
        series: [{ name: currency, color: PALETTE[(index + 2) % PALETTE.length],
          values: perDay(function (row) { return Number(row.total_price || 0); }, function (row) { return row.currency === currency; }) }]
      });
    });
    var chats = perDay(function (row) { return row.chats; });
    var failures = perDay(function (row) { return row.failed + row.refused; });
    chart({
      title: strings.failureRate, unit: strings.unitPercent, days: dayList, line: true, decimals: 1,
      series: [{ name: strings.failedOrRefused, color: PALETTE[5],
        values: chats.map(function (count, index) { return count ? 100 * failures[index] / count : 0; }) }]
    });
    // A day's latency over several systems: the busiest system's figure stands for the day.
    function latency(field) {
      var best = {};
      rows.forEach(function (row) {
        if (row[field] == null) return;
        if (!best[row.day] || row.completed > best[row.day].completed) best[row.day] = row;
      });
      return dayList.map(function (day) { return best[day] ? best[day][field] : 0; });
    }
    chart({
      title: strings.latency, unit: strings.unitMS, days: dayList, line: true,
      series: [{ name: strings.p50, color: PALETTE[0], values: latency('latency_p50_ms') },
        { name: strings.p95, color: PALETTE[1], values: latency('latency_p95_ms'), dashed: true }]
    });
  }

  function svg(name, attributes, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text != null) node.textContent = text;
    return node;
  }

  function format(value, decimals) {
    return decimals ? value.toLocaleString(language, { maximumFractionDigits: decimals }) : number.format(Math.round(value));
  }


  /* One chart: bars (stacked when asked) or lines over the days, axes labelled with the unit, a tooltip on every
     mark, a legend, and the exact figures in a table below. */
  function chart(spec) {
    var width = 640, height = 250, left = 64, right = 12, top = 26, bottom = 36;
    var plotWidth = width - left - right, plotHeight = height - top - bottom;
    var totals = spec.days.map(function (_, index) {
      return spec.stacked
        ? spec.series.reduce(function (sum, series) { return sum + series.values[index]; }, 0)
        : Math.max.apply(null, spec.series.map(function (series) { return series.values[index]; }));
    });
    var max = Math.max.apply(null, totals.concat([0]));
    var step = niceStep(max / 4 || 1);
    var ceiling = Math.max(step, Math.ceil(max / step) * step);
    var id = 'chart-' + ui.usageCharts.children.length;

    var figure = document.createElement('figure');
    figure.className = 'usage-chart';
    var caption = document.createElement('figcaption');
    caption.id = id + '-title';
    caption.textContent = spec.title;
    figure.appendChild(caption);
    var graphic = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-labelledby': id + '-title' });
    var tickDecimals = Math.max(0, -Math.floor(Math.log10(step)));
    for (var tick = 0; tick <= ceiling + step / 2; tick += step) {
      var y = top + plotHeight - (tick / ceiling) * plotHeight;
      graphic.appendChild(svg('line', { x1: left, x2: width - right, y1: y, y2: y, class: 'grid' }));
      graphic.appendChild(svg('text', { x: left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, format(tick, tickDecimals)));
    }
    graphic.appendChild(svg('text', { x: left, y: 12, class: 'axis unit', 'text-anchor': 'start' }, spec.unit));
    var slot = plotWidth / spec.days.length;
    var labelEvery = Math.ceil(spec.days.length / 8);
    spec.days.forEach(function (day, index) {
      if (index % labelEvery === 0) {
        graphic.appendChild(svg('text', { x: left + slot * (index + 0.5), y: height - bottom + 16, class: 'axis', 'text-anchor': 'middle' }, day.slice(5)));
      }
    });
    if (spec.line) {
      spec.series.forEach(function (series) {
        var points = series.values.map(function (value, index) {
          return (left + slot * (index + 0.5)) + ',' + (top + plotHeight - (value / ceiling) * plotHeight);
        });
        graphic.appendChild(svg('polyline', { points: points.join(' '), fill: 'none', stroke: series.color, 'stroke-width': 2.5,
          'stroke-dasharray': series.dashed ? '6 4' : 'none' }));
        series.values.forEach(function (value, index) {
          var dot = svg('circle', { cx: left + slot * (index + 0.5), cy: top + plotHeight - (value / ceiling) * plotHeight, r: 3.5, fill: series.color });
          dot.appendChild(svg('title', {}, spec.days[index] + ' · ' + series.name + ': ' + format(value, spec.decimals) + ' ' + spec.unit));
          graphic.appendChild(dot);
        });
      });
    } else {
      var base = spec.days.map(function () { return 0; });
      spec.series.forEach(function (series, seriesIndex) {
        series.values.forEach(function (value, index) {
          if (!value) return;
          var barWidth = spec.stacked ? slot * 0.7 : slot * 0.7 / spec.series.length;
          var x = left + slot * index + slot * 0.15 + (spec.stacked ? 0 : barWidth * seriesIndex);
          var barHeight = (value / ceiling) * plotHeight;
          var y = top + plotHeight - barHeight - (spec.stacked ? (base[index] / ceiling) * plotHeight : 0);
          var bar = svg('rect', { x: x, y: y, width: Math.max(1, barWidth), height: barHeight, fill: series.color });
          bar.appendChild(svg('title', {}, spec.days[index] + ' · ' + series.name + ': ' + format(value, spec.decimals) + ' ' + spec.unit));
          graphic.appendChild(bar);
          if (spec.stacked) base[index] += value;
        });
      });
    }
    figure.appendChild(graphic);

    var legend = document.createElement('ul');
    legend.className = 'usage-legend';
    spec.series.forEach(function (series) {
      var item = document.createElement('li');
      var swatch = document.createElement('span');
      swatch.className = 'swatch' + (series.dashed ? ' dashed' : '');
      swatch.style.setProperty('--swatch', series.color);
      item.append(swatch, document.createTextNode(series.name));
      legend.appendChild(item);
    });
    figure.appendChild(legend);

    var details = document.createElement('details');
    var summary = document.createElement('summary');
    summary.textContent = strings.figures;
    details.appendChild(summary);
    var table = document.createElement('table');
    table.className = 'results-table';
    var head = table.createTHead().insertRow();
    [strings.day].concat(spec.series.map(function (series) { return series.name + ' (' + spec.unit + ')'; })).forEach(function (text) {
      var cell = document.createElement('th');
      cell.scope = 'col';
      cell.textContent = text;
      head.appendChild(cell);
    });
    var body = table.createTBody();
    spec.days.forEach(function (day, index) {
      var row = body.insertRow();
      var th = document.createElement('th');
      th.scope = 'row';
      th.textContent = day;
      row.appendChild(th);
      spec.series.forEach(function (series) {
        var cell = row.insertCell();
        cell.className = 'number';
        cell.textContent = format(series.values[index], spec.decimals);
      });
    });
    details.appendChild(table);
    figure.appendChild(details);
    ui.usageCharts.appendChild(figure);
  }

  function niceStep(raw) {
    var magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var fraction = raw / magnitude;
    return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
  }

  /* ---- the top users ---- */

  function topUsers(rows) {
    var users = {};
    rows.forEach(function (row) {
      var key = row.system_id + '\u0000' + row.user_id;
      var user = users[key] || (users[key] = { system: row.system_id, user: row.user_id, chats: 0, tokens: 0, cost: {} });
      user.chats += row.chats;
      user.tokens += row.total_tokens;
      if (row.currency && row.total_price) user.cost[row.currency] = (user.cost[row.currency] || 0) + Number(row.total_price);
    });
    var top = Object.keys(users).map(function (key) { return users[key]; })
      .sort(function (a, b) { return b.tokens - a.tokens || b.chats - a.chats; }).slice(0, 10);
    var body = ui.topUsers.tBodies[0];
    body.replaceChildren();
    top.forEach(function (entry) {
      var row = body.insertRow();
      var link = document.createElement('a');
      var params = new URLSearchParams({ system_id: entry.system, user_id: entry.user });
      var lang = new URLSearchParams(window.location.search).get('lang');
      if (lang) params.set('lang', lang);
      link.href = '/cache?' + params.toString();
      link.textContent = entry.user;
      row.insertCell().appendChild(link);
      row.insertCell().textContent = entry.system;
      [number.format(entry.chats), number.format(entry.tokens),
        Object.keys(entry.cost).map(function (currency) { return format(entry.cost[currency], 4) + ' ' + currency; }).join(', ')]
        .forEach(function (text) {
          var cell = row.insertCell();
          cell.className = 'number';
          cell.textContent = text;
        });
    });
  }
})();
