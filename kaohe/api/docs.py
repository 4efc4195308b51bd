"""The API's documentation page: a plain page listing every operation from the OpenAPI
document, with no script and nothing loaded from elsewhere (ninja's Swagger page needs a
CDN or its bundled script, and the content security policy allows neither inline code nor
other hosts; government intranets are offline)."""

from django.shortcuts import render
from django.urls import reverse
from ninja.openapi.docs import DocsBase

_METHODS = ("get", "put", "post", "patch", "delete")


class PlainDocs(DocsBase):
    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema(path_params=kwargs)
        operations = []
        for path, item in schema["paths"].items():
            for method in _METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                operations.append({
                    "method": method.upper(), "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tags": operation.get("tags", []),
                    "parameters": [p["name"] for p in operation.get("parameters", [])],
                    "responses": sorted(operation.get("responses", {})),
                })
        return render(request, "api/docs.html", {
            "api": api, "description": schema["info"].get("description", ""),
            "operations": operations,
            "schema_url": reverse(f"{api.urls_namespace}:openapi-json"),
        })
