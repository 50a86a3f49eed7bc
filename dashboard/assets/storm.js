/* The live board's table fills what the screen has left below the figures (issue 17): on a wall
 * at 1920x1080 it shows every row of a storm it can; on a desk at 1366x768 it is never taller
 * than the window, so every row is reachable by the table's own scroll. CSS alone cannot know
 * how much the banners and cards above take, so this measures it. Only the height changes.
 */
(function () {
  "use strict";
  if (window.__feederwatchStormFit) { return; }
  window.__feederwatchStormFit = true;
  var MIN = 300, GAP = 28;

  function fit() {
    var grid = document.getElementById("live-grid");
    if (!grid) { return; }
    var top = grid.getBoundingClientRect().top + window.scrollY;
    var want = Math.max(MIN, Math.min(window.innerHeight - GAP, window.innerHeight - top - GAP));
    if (Math.abs(grid.offsetHeight - want) > 2) { grid.style.height = want + "px"; }
  }
  window.addEventListener("resize", fit);
  setInterval(fit, 400);
})();
