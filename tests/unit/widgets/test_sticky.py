from hubs.testing import add_hub, render_widget


def test_sticky_renders_markdown(session):
    hub = add_hub(session, "designteam", widgets=[("sticky", {"text": "We **design**."})])
    fragment = render_widget(session, hub, "sticky")
    assert "<strong>design</strong>" in fragment.html
    assert fragment.data == {"html": "<p>We <strong>design</strong>.</p>\n"}


def test_sticky_keeps_script_inert(session):
    hostile = '<script>alert(1)</script>\n\n<img src=x onerror="alert(2)"> [x](javascript:alert(3))'
    hub = add_hub(session, "designteam", widgets=[("sticky", {"text": hostile})])
    html = render_widget(session, hub, "sticky").html
    assert "<script" not in html
    assert "onerror" not in html
    assert "href=\"javascript" not in html
