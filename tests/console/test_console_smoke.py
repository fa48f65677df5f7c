from tests.console.conftest import csrf_of


def test_pages_render(console):
    for path in ("/console/tickets", "/console/categories", "/console/imports", "/console/bindings", "/console/faq",
                 "/console/staff", "/console/gate", "/console/tickets/rows"):
        r = console.get(path)
        assert r.status_code == 200, (path, r.text[:2000])
    assert csrf_of(console.get("/console/tickets").text)
