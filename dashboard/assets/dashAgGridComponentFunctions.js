/* Cell renderers for dash-ag-grid (it looks them up on this global by name).
   FwLink: an id shown as a link to its detail page. React escapes the text and the target is the
   prefix plus the URL-encoded id, so a hostile id can neither inject markup nor point elsewhere.
   (It replaces the markdown renderer fed by a JavaScript valueGetter, which drew empty cells:
   dash-ag-grid runs such strings through its own restricted evaluator (esprima-parsed), and the
   getter's regular-expression escaping never produced a value there.) */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions =
  window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.FwLink = function (props) {
  if (props.value === null || props.value === undefined || props.value === "") {
    return "";
  }
  var prefix = (props.colDef.cellRendererParams || {}).prefix || "/";
  var text = String(props.value);
  return React.createElement(
    "a",
    { href: prefix + encodeURIComponent(text), className: "fw-link" },
    text
  );
};
