"""The serving floor of label_writes.py: FastAPI and uvicorn answering the same requests, with
the same body model and a sync handler as spanledger's, doing no work at all (no key check,
no domain rules, no event store, no read model)."""

from fastapi import FastAPI, Response

from spanledger.api.schemas import SaveLabelsBody

PROJECTS = "/language/authoring/analyze-text/projects"

app = FastAPI()


@app.post(PROJECTS + "/{projectName}/documents/{documentName}/:save-labels")
def save_labels(projectName: str, documentName: str, body: SaveLabelsBody, response: Response) -> dict:  # noqa: N803
    response.headers["X-Log-Position"] = "1"
    added = [{"id": f"L{i}", "category": a.category, "offset": a.offset, "length": a.length}
             for i, a in enumerate(body.add)]
    return {"added": added, "removed": [], "accepted": [], "rejected": [], "version": 1}


@app.get(PROJECTS + "/{projectName}")
def project(projectName: str) -> dict:  # noqa: N803
    return {"projectName": projectName}
