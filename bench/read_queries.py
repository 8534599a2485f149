"""The read model's queries behind a document read (the project, the document, its labels,
its suggestions) against the same four SELECTs sent straight through the database driver.

In-process, one connection, no HTTP: what the query layer (SQLAlchemy, row objects) adds to
the database's own work. Ratio = driver time / query time: 1 means the layer costs nothing.
"""

from __future__ import annotations

from common import backends, bench_project, best_of, machine, parser, store
from spanledger.domain import ids
from spanledger.domain.application import LabelSpec, NewDocument
from spanledger.projections import queries

LABELS = 10
_DRIVER_SQL = (
    "SELECT * FROM projects WHERE id = {p}",
    "SELECT * FROM documents WHERE project_id = {p} AND name = {p}",
    'SELECT label_id, entity, "offset", length, created_at, actor, origin_job, origin_model FROM labels '
    'WHERE document_id = {p} ORDER BY "offset", length, label_id',
    'SELECT suggestion_id, entity, "offset", length, confidence, model_label, job_id, state, created_at '
    'FROM suggestions WHERE document_id = {p} ORDER BY "offset", length, suggestion_id',
)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--reads", type=int, default=1000)
    args = p.parse_args()
    print(f"machine: {machine()}; {args.reads} reads of a document with {LABELS} labels; best of {args.repeat}")
    for backend in backends(args.backend):
        with store(backend) as container:
            resource_id, _, actor = bench_project(container, "Person")
            container.app.add_documents(resource_id, "bench", [NewDocument("d", "Name " * LABELS)], actor)
            container.app.save_labels(resource_id, "bench", "d", actor=actor,
                                      add=[LabelSpec("Person", 5 * k, 4) for k in range(LABELS)])
            container.runner.catch_up()
            project_id = str(ids.project_id(resource_id, "bench"))
            with container.reads.connect() as conn:
                document_id = queries.get_document(conn, project_id, "d")[0].id
                cursor = conn.connection.dbapi_connection.cursor()
                marker = "%s" if backend == "postgres" else "?"
                driver_reads = [(sql.format(p=marker), params) for sql, params in zip(
                    _DRIVER_SQL, [(project_id,), (project_id, "d"), (document_id,), (document_id,)], strict=True)]

                def through_queries() -> None:
                    queries.get_project(conn, project_id)
                    doc, _ = queries.get_document(conn, project_id, "d")
                    queries.document_suggestions(conn, doc.id)

                def through_driver() -> None:
                    for sql, params in driver_reads:
                        cursor.execute(sql, params)
                        cursor.fetchall()

                def best(read) -> float:
                    return best_of(args.repeat, lambda: [read() for _ in range(args.reads)]) / args.reads

                driver, layer = best(through_driver), best(through_queries)
                cursor.close()
            print(f"[{backend}] a document read: driver {driver * 1000:.3f} ms, queries {layer * 1000:.3f} ms; "
                  f"ratio {driver / layer:.2f}")


if __name__ == "__main__":
    main()
