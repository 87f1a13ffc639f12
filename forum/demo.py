"""A small fictional community for trying Cairn out (``flask --app wsgi forum demo-data``).

Every name, place and word here is invented for Cairn; any likeness to real people is chance.
All demo accounts share the password ``DEMO_PASSWORD`` (printed by the command).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from forum.models import Board, Category, Post, Thread, ThreadTag, User
from forum.services.accounts import hash_password
from forum.services.maintenance import recount_all
from forum.services.validation import email_key, username_key
from forum.text.markup import render_markdown
from forum.text.slugs import slugify

DEMO_PASSWORD = "cairn-demo-2024"  # noqa: S105 - documented demo password, local use only

BOARDS = [
    (
        "Getting started",
        [
            (
                "Newly diagnosed",
                "newly-diagnosed",
                "Just found out? Ask anything. Nobody here will think it's a silly question.",
            ),
        ],
    ),
    (
        "Treatment",
        [
            (
                "Radiation treatment (GK/CK/FSR)",
                "radiation",
                "Gamma Knife, CyberKnife, fractionated and proton radiotherapy: "
                "before, during and after.",
            ),
            (
                "Surgery",
                "surgery",
                "Translabyrinthine, retrosigmoid, middle fossa: choosing, preparing, recovering.",
            ),
        ],
    ),
    (
        "Living with it",
        [
            (
                "Life after treatment",
                "life-after-treatment",
                "Hearing, balance, facial nerve, tinnitus, fatigue, work and family.",
            ),
            (
                "Updates & outcomes",
                "updates-outcomes",
                "Come back and tell us how it went. Your story is someone else's map.",
            ),
        ],
    ),
]

# (username, role, custom title, signature line)
MEMBERS = [
    (
        "wren_h",
        "moderator",
        "Here to help",
        "Retrosigmoid 2011, facial weakness recovered by 2012.",
    ),
    (
        "petra.v",
        "member",
        "",
        "Right AN 2.2 cm found 3/14. Translab 9/14 at St. Brendan's. SSD right side, BAHA 6/15.",
    ),
    (
        "oakhill_dave",
        "member",
        "Five years and counting",
        "dx 2/17 1.4 x 1.0 cm left VS. GK 5/17 @ Northfield. 1 yr: 1.3 x 1.0, 2 yr: 1.1 x 0.8",
    ),
    (
        "juniper_r",
        "member",
        "",
        "L AN diagnosed 8/18 1.9 x 1.2 x 1.1 cm. FSR Jan '19. Vertigo spells began 6/19.",
    ),
    ("lennox", "member", "", "W&W since 2020. Tinnitus and mild hearing loss, right."),
    ("marisol", "member", "", ""),
    ("admin", "admin", "Site admin", ""),
]


@dataclass
class DemoPost:
    author: str
    when: str  # YYYY-MM-DD HH:MM
    body: str
    is_update: bool = False


@dataclass
class DemoThread:
    board: str
    title: str
    posts: list[DemoPost]
    sticky: bool = False
    outcome: tuple[str, str, int] | None = None  # (category, summary, index of outcome post)


THREADS = [
    DemoThread(
        "newly-diagnosed",
        "Welcome: read this first",
        [
            DemoPost(
                "wren_h",
                "2018-01-10 09:00",
                "Welcome to Cairn. This is a peer-support community: we share what happened to us, "
                "not medical advice.\n\n"
                "* Add your **treatment history** on your profile, so replies can show where you "
                "were in your journey when you wrote them.\n"
                "* When your story reaches a turning point, come back and post an **update**. "
                "Threads that end with an outcome are the ones new members find most useful.\n"
                "* Be kind. Everyone here was new once.",
            ),
        ],
        sticky=True,
    ),
    DemoThread(
        "newly-diagnosed",
        "Just diagnosed with a 1 cm AN, where do I even start?",
        [
            DemoPost(
                "marisol",
                "2023-03-02 20:14",
                "My MRI last week found a 1 cm acoustic neuroma on the left. I'd gone in about "
                "ringing in one ear and now I have a word I can't stop googling. My ENT mentioned "
                "*watch and wait*, radiation and surgery in the same breath. "
                "How did you all decide?",
            ),
            DemoPost(
                "wren_h",
                "2023-03-02 21:03",
                "Hello and welcome. Take a breath: at 1 cm most people have time to decide. "
                "Ask for a copy of the report and the images, and for a second opinion at a centre "
                "that treats a lot of these. Write your questions down before each appointment.",
            ),
            DemoPost(
                "lennox",
                "2023-03-03 07:41",
                "I'm on watch and wait with a small one. Scans every year so far and it hasn't "
                "changed. The waiting was the hardest part at first; it gets easier.",
            ),
            DemoPost(
                "oakhill_dave",
                "2023-03-04 18:22",
                "I chose Gamma Knife for a tumour about your size because it was growing. Happy to "
                "answer questions about the day itself: it was far less dramatic than I feared.",
            ),
        ],
    ),
    DemoThread(
        "radiation",
        "Dizzy spells nine months after FSR, anyone else?",
        [
            DemoPost(
                "juniper_r",
                "2019-10-12 16:30",
                "I finished fractionated radiotherapy in January. Since June I get sudden spells "
                "where the room tilts for a minute or two, maybe ten times a week. My team says "
                "swelling after radiation can do this and that it usually settles. Has anyone had "
                "this, and did it go away?",
            ),
            DemoPost(
                "oakhill_dave",
                "2019-10-12 19:05",
                "I had a few months of off-balance days around the six-month mark after GK. Mine "
                "eased off by the one-year scan. Vestibular physio helped me more than anything.",
            ),
            DemoPost(
                "wren_h",
                "2019-10-13 08:47",
                "Worth keeping a simple diary of the spells (date, length, what you were doing) to "
                "take to your next appointment. It makes the conversation much more concrete.",
            ),
            DemoPost(
                "juniper_r",
                "2019-12-20 11:15",
                "Thank you both. The scan showed the tumour a little swollen, as expected, with a "
                "darker centre. Physio starts in January. "
                "The diary turned out to be really useful.",
            ),
            DemoPost(
                "juniper_r",
                "2021-11-08 10:02",
                "Coming back with an update for anyone who finds this thread later: the spells "
                "peaked in early 2020, then slowly became rarer. I haven't had one since last "
                "spring. The tumour has shrunk a little on both follow-up scans. If you're in the "
                "middle of it: it can pass.",
                is_update=True,
            ),
            DemoPost(
                "oakhill_dave",
                "2021-11-08 17:40",
                "This is wonderful to read. Thank you for coming back to tell us.",
            ),
        ],
        outcome=("resolved", "Vertigo spells faded about two years after FSR", 4),
    ),
    DemoThread(
        "surgery",
        "Translab or retrosigmoid for a 2 cm tumour: how did you decide?",
        [
            DemoPost(
                "petra.v",
                "2014-07-21 13:10",
                "My hearing on the right is already poor and the tumour is a little over 2 cm. "
                "One surgeon suggests translab, another retrosigmoid. What tipped the balance for "
                "you?",
            ),
            DemoPost(
                "wren_h",
                "2014-07-21 15:55",
                "I had retrosigmoid because I still had useful hearing. With poor hearing already, "
                "many surgeons prefer translab for the view of the facial nerve. Ask each surgeon "
                "how many of each approach they do a year.",
            ),
            DemoPost(
                "petra.v",
                "2014-08-30 09:12",
                "Decided on translab. Surgery is booked for September. Thank you for the question "
                "to ask; it made the choice clearer.",
            ),
            DemoPost(
                "petra.v",
                "2015-09-02 19:45",
                "A year on: facial nerve fine, balance back to normal for everyday life, and the "
                "bone-anchored hearing aid fitted in June helps in meetings.",
                is_update=True,
            ),
        ],
        outcome=("improved", "Balance recovered within a year of translab; BAHA helps at work", 3),
    ),
    DemoThread(
        "life-after-treatment",
        "Tips for single-sided deafness in meetings",
        [
            DemoPost(
                "petra.v",
                "2016-02-11 12:00",
                "What works for you in meetings? So far: sit with the good ear towards the room, "
                "ask for agendas in advance, and don't be shy about saying which side to speak to.",
            ),
            DemoPost(
                "lennox",
                "2016-02-12 08:30",
                "A small table microphone paired to my hearing aid changed everything for me.",
            ),
        ],
    ),
    DemoThread(
        "updates-outcomes",
        "Five years after Gamma Knife: my MRI timeline",
        [
            DemoPost(
                "oakhill_dave",
                "2022-06-15 21:00",
                "Five years ago I was a nervous wreck reading old threads here, so here is mine "
                "for the next person: diagnosed at 14 mm, treated with Gamma Knife, a little "
                "swelling at six months, then steady shrinkage. My hearing on that side has faded, "
                "but balance and face are fine. The latest scan measures 9 mm.",
                is_update=True,
            ),
            DemoPost(
                "marisol",
                "2023-03-05 10:10",
                "Thank you for writing this. It's exactly what I needed to read this week.",
            ),
        ],
        outcome=("improved", "Tumour shrank from 14 mm to 9 mm in five years after Gamma Knife", 0),
    ),
]

# Tags ("kind:slug" from forum/data/vocabulary.toml) and the moderator's featured story, by title.
THREAD_TAGS = {
    "Dizzy spells nine months after FSR, anyone else?": (
        "condition:acoustic-neuroma", "treatment:fsr", "treatment:vestibular-rehab",
        "symptom:vertigo",
    ),
    "Translab or retrosigmoid for a 2 cm tumour: how did you decide?": (
        "condition:acoustic-neuroma", "treatment:translabyrinthine", "treatment:baha",
        "symptom:hearing-loss", "symptom:balance-problems",
    ),
    "Tips for single-sided deafness in meetings": ("symptom:hearing-loss", "treatment:hearing-aid"),
    "Five years after Gamma Knife: my MRI timeline": (
        "condition:acoustic-neuroma", "treatment:gamma-knife", "symptom:hearing-loss",
    ),
}
FEATURED = {
    "Dizzy spells nine months after FSR, anyone else?": (
        "wren_h", "A hopeful story for anyone with vertigo after radiation."
    ),
}


def _add_histories(session: Session, members: dict[str, User]) -> None:
    """Each demo member's structured history, read from their signature by the parser."""
    from forum.services.histories import import_signature_history
    from forum.vocabulary import load_vocabulary

    vocabulary = load_vocabulary()
    for member in members.values():
        if member.signature:
            import_signature_history(session, member, member.signature, vocabulary)
            member.signature = ""  # the structured history now tells it


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def load_demo(session: Session) -> str:
    categories = []
    boards: dict[str, Board] = {}
    for position, (category_name, board_specs) in enumerate(BOARDS, start=1):
        category = Category(name=category_name, position=position)
        session.add(category)
        categories.append(category)
        for board_position, (name, slug, description) in enumerate(board_specs, start=1):
            board = Board(
                category=category,
                name=name,
                slug=slug,
                description=description,
                position=board_position,
            )
            session.add(board)
            boards[slug] = board
    password = hash_password(DEMO_PASSWORD)
    members: dict[str, User] = {}
    for username, role, title, signature in MEMBERS:
        member = User(
            username=username,
            username_key=username_key(username),
            email=f"{username}@example.org",
            email_key=email_key(f"{username}@example.org"),
            password_hash=password,
            role=role,
            custom_title=title,
            signature=signature,
            history_visibility="public",
            session_token=secrets.token_hex(8),
            created_at=datetime(2011, 1, 1),
        )
        session.add(member)
        members[username] = member
    session.flush()

    for spec in THREADS:
        _add_thread(session, spec, boards[spec.board], members)
    session.flush()
    recount_all(session)
    _add_histories(session, members)
    session.commit()
    return (
        f"Loaded the demo community: {len(boards)} boards, {len(members)} members, "
        f"{len(THREADS)} threads. Every demo account's password is {DEMO_PASSWORD!r} "
        f"(try logging in as 'marisol' or the moderator 'wren_h')."
    )


def _add_thread(session: Session, spec: DemoThread, board: Board, members: dict[str, User]) -> None:
    first = spec.posts[0]
    thread = Thread(
        board=board,
        author=members[first.author],
        title=spec.title,
        slug=slugify(spec.title),
        created_at=_when(first.when),
        last_post_at=_when(spec.posts[-1].when),
        changed_at=_when(spec.posts[-1].when),
        is_sticky=spec.sticky,
        view_count=37 * len(spec.posts),
    )
    session.add(thread)
    session.flush()
    posts = []
    for position, item in enumerate(spec.posts):
        post = Post(
            thread_id=thread.id,
            author_id=members[item.author].id,
            position=position,
            body=item.body,
            body_html=str(render_markdown(item.body)),
            created_at=_when(item.when),
            is_update=item.is_update,
        )
        session.add(post)
        posts.append(post)
    session.flush()
    if spec.outcome:
        category, summary, index = spec.outcome
        thread.outcome = category
        thread.outcome_summary = summary
        thread.outcome_post_id = posts[index].id
        thread.resolved_at = posts[index].created_at
        thread.resolved_by_id = thread.author_id
    for tag in THREAD_TAGS.get(spec.title, ()):
        kind, slug = tag.split(":")
        session.add(ThreadTag(thread_id=thread.id, kind=kind, slug=slug))
    if spec.title in FEATURED:
        from forum.services.moderation_log import record

        moderator, reason = FEATURED[spec.title]
        thread.featured_at = thread.last_post_at
        record(session, members[moderator], "outcome.feature", "thread", thread.id, reason)
