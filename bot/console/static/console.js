// Every htmx request carries the session's CSRF token (the <body data-csrf> attribute).
document.addEventListener("htmx:configRequest", function (event) {
  var token = document.body.getAttribute("data-csrf");
  if (token) { event.detail.headers["X-CSRF-Token"] = token; }
});
