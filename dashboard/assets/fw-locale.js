/* Chinese for the grid and chart libraries, served from our own server (sites are offline).
   - AG Grid: dashAgGridFunctions.fwLocaleText is every grid's getLocaleText (components/common
     grid()), so filter menus and "No Rows To Show" read in the user's language.
   - Plotly: a zh-CN locale (month and day names, modebar texts) registered when plotly.js
     loads, and the user's language set as each plot's locale.
   The language is the one the shell stores (localStorage "lang-store"), else the configured
   one (the watchdog banner's data-lang). Translations written for FeederWatch. */
(function () {
  function fwLang(fallback) {
    try {
      var stored = JSON.parse(window.localStorage.getItem("lang-store"));
      if (stored === "zh" || stored === "en") { return stored; }
    } catch (e) { /* no storage */ }
    var el = document.getElementById("watchdog-banner");
    return (el && el.getAttribute("data-lang")) || fallback || "zh";
  }
  window.fwLang = fwLang;

  var GRID_ZH = {
    selectAll: "(全选)", selectAllSearchResults: "(全选搜索结果)", searchOoo: "搜索…",
    blanks: "(空白)", noMatches: "无匹配项", typeToSearchOoo: "输入以搜索…",
    filterOoo: "筛选…", equals: "等于", notEqual: "不等于", blank: "为空", notBlank: "不为空",
    empty: "请选择", lessThan: "小于", greaterThan: "大于", lessThanOrEqual: "小于或等于",
    greaterThanOrEqual: "大于或等于", inRange: "介于", inRangeStart: "从", inRangeEnd: "到",
    contains: "包含", notContains: "不包含", startsWith: "开头是", endsWith: "结尾是",
    dateFormatOoo: "年-月-日", before: "早于", after: "晚于",
    andCondition: "且", orCondition: "或", applyFilter: "应用", resetFilter: "重置",
    clearFilter: "清除", cancelFilter: "取消", textFilter: "文本筛选", numberFilter: "数值筛选",
    dateFilter: "日期筛选", setFilter: "列表筛选", columns: "列", filters: "筛选",
    loadingOoo: "加载中…", loadingError: "加载出错", noRowsToShow: "暂无数据",
    noMatchingRows: "没有符合筛选条件的行", enabled: "启用",
    pinColumn: "固定列", pinLeft: "固定在左侧", pinRight: "固定在右侧", noPin: "不固定",
    autosizeThisColumn: "自动调整本列宽度", autosizeAllColumns: "自动调整所有列宽度",
    resetColumns: "恢复列设置", copy: "复制", copyWithHeaders: "连同表头复制", paste: "粘贴",
    export: "导出", csvExport: "导出CSV", excelExport: "导出Excel", columnFilter: "列筛选",
    columnChooser: "选择列", chooseColumns: "选择列", sortAscending: "升序",
    sortDescending: "降序", sortUnSort: "取消排序", more: "更多", to: "至", of: "共",
    page: "页", pageLastRowUnknown: "？", nextPage: "下一页", lastPage: "末页",
    firstPage: "首页", previousPage: "上一页", pageSizeSelectorLabel: "每页行数：",
    footerTotal: "合计", sum: "合计", min: "最小", max: "最大", none: "无", count: "计数",
    avg: "平均", filteredRows: "已筛选", selectedRows: "已选", totalRows: "总行数",
    totalAndFilteredRows: "行", ariaFilterInput: "筛选输入", ariaSearch: "搜索",
    ariaSearchFilterValues: "搜索筛选值", ariaFilterValue: "筛选值",
    ariaFilteringOperator: "筛选条件", ariaColumn: "列", ariaRowSelect: "选择此行",
    ariaMenuColumn: "打开列菜单", ariaFilterColumn: "打开列筛选"
  };
  var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  dagfuncs.fwLocaleText = function (params, fallback) {
    if (fwLang(fallback) === "zh" && Object.prototype.hasOwnProperty.call(GRID_ZH, params.key)) {
      var text = GRID_ZH[params.key];
      (params.variableValues || []).forEach(function (v) { text = text.replace("${variable}", v); });
      return text;
    }
    return params.defaultValue;
  };

  var PLOTLY_ZH = {
    moduleType: "locale",
    name: "zh-CN",
    dictionary: {
      "Autoscale": "自动缩放", "Box Select": "框选", "Lasso Select": "套索选择",
      "Compare data on hover": "悬停时比较数据", "Show closest data on hover": "悬停时显示最近的数据",
      "Double-click to zoom back out": "双击还原", "Download plot as a png": "下载为PNG图片",
      "Download plot": "下载图表", "Pan": "平移", "Reset axes": "重置坐标轴",
      "Reset view": "重置视图", "Reset": "重置", "Toggle Spike Lines": "显示/隐藏辅助线",
      "Zoom": "缩放", "Zoom in": "放大", "Zoom out": "缩小",
      "Produced with Plotly.js": "由 Plotly.js 绘制", "Snapshot succeeded": "截图成功",
      "Taking snapshot - this may take a few seconds": "正在截图，请稍候",
      "Error": "错误", "Trace": "曲线", "max": "最大值", "min": "最小值", "median": "中位数",
      "mean ± σ": "均值 ± σ", "mean": "均值", "upper fence": "上限", "lower fence": "下限",
      "q1": "下四分位数", "q3": "上四分位数", "open": "开盘", "close": "收盘",
      "high": "最高", "low": "最低", "incoming flow count": "流入数", "outgoing flow count": "流出数",
      "new text": "新文本"
    },
    format: {
      days: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
      shortDays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
      months: ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月",
        "十一月", "十二月"],
      shortMonths: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月",
        "11月", "12月"],
      date: "%Y-%m-%d",
      decimal: ".",
      thousands: ",",
      grouping: [3],
      currency: ["¥", ""]
    }
  };

  function withLocale(config) {
    var c = Object.assign({}, config || {});
    if (!c.locale) { c.locale = fwLang() === "zh" ? "zh-CN" : "en"; }
    return c;
  }

  function adopt(P) {
    if (!P || P.__fwLocale || typeof P.register !== "function") { return; }
    P.__fwLocale = true;
    P.register(PLOTLY_ZH);
    ["newPlot", "react"].forEach(function (name) {
      var orig = P[name];
      if (typeof orig !== "function") { return; }
      P[name] = function (gd, data, layout, config) {
        if (data && typeof data === "object" && !Array.isArray(data)) {
          // Plotly.react(gd, {data, layout, config})
          data = Object.assign({}, data, { config: withLocale(data.config) });
          return orig.call(this, gd, data);
        }
        return orig.call(this, gd, data, layout, withLocale(config));
      };
    });
  }

  // plotly.js is loaded later (our vendored bundle or Dash's async one) and sets window.Plotly.
  // Our bundle is only preloaded in the page (<link id="fw-plotly">, dashboard/app.py
  // plotly_preload) and run here, as an async script, once Dash has sent its first callback
  // requests: its half second of start-up then overlaps the server's work on the page instead
  // of holding up Dash's start or the handling of the page's layout. Until it has run,
  // window.Plotly reads as a promise of it (and asking starts it), which dcc.Graph's loader
  // waits for (`Promise.resolve(window.Plotly || <load Dash's full bundle>)`) instead of
  // loading a second plotly.js; if our bundle fails to load, Dash's is loaded instead.
  if (window.Plotly) {
    adopt(window.Plotly);
  } else {
    var current, pending, settle, started = false;
    var link = document.getElementById("fw-plotly");
    var load = function (src, onerror) {
      var s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onerror = onerror;
      document.body.appendChild(s);
      return s;
    };
    var start = function () {
      if (started || current) { return; }
      started = true;
      load(link.href, function () {
        if (!current) { load(window._dashPlotlyJSURL, null).onload = function () { settle(current); }; }
      });
    };
    if (link) {
      pending = new Promise(function (resolve) { settle = resolve; });
      var fetchBefore = window.fetch;
      window.fetch = function (input) {
        var answer = fetchBefore.apply(this, arguments);
        if (!started && String((input && input.url) || input).indexOf("_dash-update-component") !== -1) {
          setTimeout(start, 0);
        }
        return answer;
      };
      window.addEventListener("load", function () { setTimeout(start, 3000); });
    }
    Object.defineProperty(window, "Plotly", {
      configurable: true,
      get: function () {
        if (pending && !current) { start(); }
        return current || pending;
      },
      set: function (v) {
        current = v;
        try { adopt(v); } catch (e) { /* keep plotly working */ }
        if (settle && v) { settle(v); }
      }
    });
  }
})();
