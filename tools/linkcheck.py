#!/usr/bin/env python3
"""Checks every link of the built book (docs/book): a relative link must name a file the
book has, and its #fragment an id on that page; a same-page #fragment an id on the page.
README.md's relative links must name files of the repository.
Links to other sites are listed, not fetched (CI here has no internet). Exit 1 on any
broken link, naming the page, the link and why.

    python3 tools/linkcheck.py [BOOK_DIR]     # default: docs/book
"""
import html.parser
import os
import re
import sys
import urllib.parse


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if value and (name == "href" or (name == "src" and tag in ("img", "script"))):
                self.links.append(value)


def main():
    book = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "docs/book")
    if not os.path.isfile(os.path.join(book, "index.html")):
        sys.exit(f"linkcheck: no book at {book} (run mdbook build docs)")
    pages = {}
    for root, _, files in os.walk(book):
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(root, name)
                page = Page()
                with open(path, encoding="utf-8") as f:
                    page.feed(f.read())
                pages[path] = page
    broken, external, checked = [], set(), 0
    for path, page in sorted(pages.items()):
        shown = os.path.relpath(path, book)
        for link in page.links:
            parts = urllib.parse.urlsplit(link)
            if parts.scheme in ("http", "https", "mailto"):
                external.add(link)
                continue
            if parts.scheme:
                broken.append(f"{shown}: {link}: unknown scheme")
                continue
            checked += 1
            target = path
            if parts.path:
                # A path from the root ("/") is from the book's root (mdBook's site-url).
                base = book if parts.path.startswith("/") else os.path.dirname(path)
                target = os.path.normpath(os.path.join(base, urllib.parse.unquote(parts.path).lstrip("/")))
                if os.path.isdir(target):  # "/" and "dir/": its index page
                    target = os.path.join(target, "index.html")
                if target != book and not target.startswith(book + os.sep):
                    broken.append(f"{shown}: {link}: points outside the book")
                    continue
                if not os.path.exists(target):
                    broken.append(f"{shown}: {link}: no such file")
                    continue
            if parts.fragment and target.endswith(".html"):
                ids = pages[target].ids
                if urllib.parse.unquote(parts.fragment) not in ids:
                    broken.append(f"{shown}: {link}: no id {parts.fragment!r} on {os.path.relpath(target, book)}")
    # README.md links into the repository (GitHub shows them): each must name a file there.
    readme = os.path.join(os.path.dirname(os.path.dirname(book)), "README.md")
    if os.path.isfile(readme):
        with open(readme, encoding="utf-8") as f:
            for link in re.findall(r"\]\(([^)\s]+)\)", f.read()):
                if "://" in link or link.startswith(("#", "mailto:")):
                    continue
                checked += 1
                if not os.path.exists(os.path.join(os.path.dirname(readme), link.split("#")[0])):
                    broken.append(f"README.md: {link}: no such file")
    for line in broken:
        print(f"broken link: {line}", file=sys.stderr)
    print(f"linkcheck: {len(pages)} pages, {checked} links inside the book checked, "
          f"{len(broken)} broken; {len(external)} links to other sites not fetched")
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
