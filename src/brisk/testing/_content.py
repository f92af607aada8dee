"""Fixed documents served by the test application (``/html``, ``/json``, ``/xml``, ``/robots.txt``, ...)."""

from __future__ import annotations

HTML = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>brisk test page</title>
  </head>
  <body>
    <h1>A small page for HTTP client tests</h1>
    <p>This page is served by <code>brisk.testing.app</code>. It has a title, a heading, a paragraph,
    a list and a link, so that parsers have something to find.</p>
    <ul>
      <li><a href="/get">/get</a> echoes a request</li>
      <li><a href="/json">/json</a> is a JSON document</li>
      <li><a href="/xml">/xml</a> is an XML document</li>
    </ul>
  </body>
</html>
"""

JSON_DOCUMENT: dict[str, object] = {
    "library": {
        "name": "brisk",
        "kind": "HTTP client",
        "protocols": ["HTTP/1.1", "HTTP/2"],
        "features": [
            {"name": "timeouts", "default": True},
            {"name": "retries", "default": True},
            {"name": "redirects", "default": True, "limit": 30},
        ],
        "nested": {"empty_list": [], "empty_object": {}, "null": None, "number": 1.5, "text": "ünïcödé ✓"},
    }
}

XML = """<?xml version="1.0" encoding="utf-8"?>
<!-- A small XML document for HTTP client tests. -->
<catalogue>
  <book id="b1" lang="en">
    <title>Networking for the Curious</title>
    <author>A. Writer</author>
    <price currency="EUR">12.50</price>
  </book>
  <book id="b2" lang="fr">
    <title>Les protocoles expliqués</title>
    <author>B. Auteur</author>
    <price currency="EUR">9.90</price>
  </book>
</catalogue>
"""

ROBOTS_TXT = """User-agent: *
Disallow: /deny
"""

UTF8_HTML = """<!DOCTYPE html>
<html lang="mul">
  <head><meta charset="utf-8"><title>UTF-8 sample</title></head>
  <body>
    <h1>UTF-8 sample text</h1>
    <p>Latin: Ça va très bien, naïve façade, Größe, smørrebrød, żółć.</p>
    <p>Greek: Καλημέρα κόσμε. Cyrillic: Привет, мир. Armenian: Բարեւ աշխարհ.</p>
    <p>Hebrew: שלום עולם. Arabic: مرحبا بالعالم. Devanagari: नमस्ते दुनिया.</p>
    <p>Chinese: 你好世界。 Japanese: こんにちは世界。 Korean: 안녕하세요 세계.</p>
    <p>Symbols: € £ ¥ → ⇒ ∀ ∃ ∑ √ ∞ ≠ ≤ ≥ ✓ ✗ ♠ ♣ ♥ ♦.</p>
    <p>Outside the BMP: 𝄞 😀 🚀 𐍈.</p>
  </body>
</html>
"""

TEAPOT = """I'm a teapot: this server brews tea, not coffee (RFC 2324, section 2.3.2).
"""
