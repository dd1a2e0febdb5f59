// Starts Swagger UI on /api/docs (a file of its own: the site allows no inline script).
(function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.getAttribute("data-spec"), domNode: root,
                           deepLinking: true, tryItOutEnabled: false });
}());
