"""PIM packs and the police authority bulletin: offline HTML and A4 PDF from one build.

content.py (what a pack holds, from DataAccess and the one assessment), themes.py (which
measures a pack covers), bulletin.py (the police authority's view), render.py (HTML),
pdf.py (A4 PDF through Chromium), build.py (one call: content -> HTML -> PDF), cli.py.
"""
