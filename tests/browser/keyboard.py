"""Walking a page with the keyboard only (issue 18): Tab and Shift+Tab move the focus, and at
every step the focused element must show it (a computed outline or box-shadow, on an element
that has a size) and the focus must move on (never held by one element or one part of the page).
No clicks: the walks use ``page.keyboard`` alone."""

from __future__ import annotations

# What the focused element is and whether it shows its focus. Read after each key.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = !!style.boxShadow && style.boxShadow !== 'none';
  const name = (el.getAttribute('aria-label') || el.labels && el.labels[0] && el.labels[0].innerText
                || el.innerText || el.value || el.name || '').trim().replace(/\\s+/g, ' ');
  return {key: el.tagName + '#' + (el.id || '') + '|' + (el.getAttribute('href') || el.name || '')
               + '|' + name.slice(0, 40),
          tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '', name: name.slice(0, 80),
          shows: outline || shadow, outline: style.outlineStyle + ' ' + style.outlineWidth,
          shadow: style.boxShadow, sized: box.width > 0 && box.height > 0};
}"""


class FocusLost(AssertionError):
    pass


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def assert_focus_shown(page, where: str = "") -> dict:
    now = focused(page)
    assert now is not None, f"{where}: the focus is on nothing"
    assert now["sized"], f"{where}: the focused element has no size: {now}"
    assert now["shows"], f"{where}: the focus is not visible on {now['key']} " \
                         f"(outline {now['outline']}, box-shadow {now['shadow']})"
    return now


def tab_to(page, wanted, *, limit: int = 60, back: bool = False, where: str = "") -> dict:
    """Press Tab (Shift+Tab with ``back``) until the focused element satisfies ``wanted``
    (a function of the dict FOCUSED gives); every stop must show its focus, and the focus must
    move at every press (held twice in a row: trapped)."""
    seen = []
    previous = None
    for _press in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page)
        if now is None:  # past the page's end (the browser's own controls): wraps around
            previous = None
            continue
        assert now["key"] != previous, f"{where}: the focus is trapped on {now['key']}"
        assert now["sized"], f"{where}: the focused element has no size: {now}"
        assert now["shows"], f"{where}: the focus is not visible on {now['key']} " \
                             f"(outline {now['outline']}, box-shadow {now['shadow']})"
        seen.append(now["key"])
        previous = now["key"]
        if wanted(now):
            return now
    raise FocusLost(f"{where}: not reached in {limit} presses of Tab; the focus went "
                    f"through {seen}")


def named(text: str):
    """A matcher for tab_to: the focused element's name (label, text, value) contains text."""
    return lambda now: text.lower() in now["name"].lower()


def field(element_id: str):
    return lambda now: now["id"] == element_id


def assert_can_leave(page, *, last_name: str, where: str = "") -> None:
    """From where the focus is, Tab reaches the page's last link (the footer's accessibility
    statement) and Shift+Tab comes back: no part of the page holds the focus."""
    tab_to(page, named(last_name), where=f"{where} (forward to the footer)")
    tab_to(page, lambda now: now["tag"] in ("input", "button", "select", "textarea", "a")
           and last_name.lower() not in now["name"].lower(), back=True,
           where=f"{where} (back from the footer)")
