"""Post a pull request's plan: the plan comment edited in place (or created once), then the commit status.

``publish`` fits the body to the forge's limit (``posts.fit``), puts ``MARKER`` on its first line,
looks for the comment carrying it, edits that one or creates it, and sets the head's status. Every
request is retried by the forge's ``Retry``; what still fails raises ``ForgeError`` for the caller
(the daemon records it and tries again at the next poll).
"""

from __future__ import annotations

from reconciler.forges.posts import MARKER, Forge, Post, Posted, fit


def publish(forge: Forge, post: Post) -> Posted:
    body, cut = fit(post.body, limit=forge.limit - len(MARKER) - 1, link=post.link)
    text = f"{MARKER}\n{body}"
    found = forge.find_comment(post.number, MARKER)
    if found is None:
        comment = forge.create_comment(post.number, text)
    else:
        forge.update_comment(post.number, found, text)
        comment = found
    forge.set_status(post.head_sha, post.state, description=post.description, link=post.link)
    return Posted(comment, created=found is None, cut=cut)
