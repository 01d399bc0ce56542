// The customer documents: the print button prints (the browser saves it as a PDF).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
});
