"""A small synthetic labeled corpus that a tiny model learns in seconds."""

from __future__ import annotations

import random

from spanledger.domain.application import LabelSpec, NewDocument

PEOPLE = ["Alice Smith", "Bob Jones", "Carla Diaz", "Dmitri Ivanov", "Emma Brown", "Farid Khan",
          "Grace Lee", "Hiro Tanaka", "Ines Silva", "Jonas Berg", "Kofi Mensah", "Lena Novak"]
ORGS = ["Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Hooli", "Stark Industries", "Wayne Enterprises"]
TEMPLATES = [
    "{person} joined {org} last year. 😀 {person} said the team at {org} was friendly.",
    "The contract between {org} and {person} was signed on Monday.",
    "{person} left {org} after ten years.",
    "According to {person}, {org} will open a new office soon.",
]


def documents(count: int, seed: int = 7) -> list[tuple[NewDocument, list[LabelSpec]]]:
    """Documents with Person and Org labels (code point offsets)."""
    rng = random.Random(seed)
    result = []
    for i in range(count):
        person, org = rng.choice(PEOPLE), rng.choice(ORGS)
        template = TEMPLATES[i % len(TEMPLATES)]
        text, labels = "", []
        for piece in template.replace("{", "\0{").replace("}", "}\0").split("\0"):
            value = {"{person}": (person, "Person"), "{org}": (org, "Org")}.get(piece)
            if value is None:
                text += piece
            else:
                labels.append(LabelSpec(value[1], len(text), len(value[0])))
                text += value[0]
        result.append((NewDocument(f"doc{i:03d}", text, None, "Test" if i % 5 == 0 else "Train"), labels))
    return result


def add_labeled_project(app, resource_id, count: int = 30, entities=("Person", "Org"), actor: str = "key:test") -> None:
    """Project "p" of the resource with `entities` and `count` documents labeled as above."""
    from spanledger.domain.offsets import StringIndexType

    app.put_project(resource_id, "p", {"language": "en"}, actor)
    for entity in entities:
        app.put_entity(resource_id, "p", entity, actor)
    docs = documents(count)
    app.add_documents(resource_id, "p", [d for d, _ in docs], actor)
    for doc, labels in docs:
        app.save_labels(resource_id, "p", doc.name, add=labels, unit=StringIndexType.CODE_POINT, actor=actor)
