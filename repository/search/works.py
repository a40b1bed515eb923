"""The national bibliography's merged works, searched with the same service as the repository's records.

Works live in the harvester's tables and number in the millions, so they are searched with the
OpenSearch backend only, in an index of their own (alias ``hylla-works``): the same documents,
queries, facets, sorts and cursors, with work ids where the repository has publication ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from harvest.records import publication_from_dict
from harvest.store import iter_works
from repository.search.documents import Document, document_from_read_model
from repository.search.opensearch import OpenSearchIndex

WORKS_ALIAS = "hylla-works"
BATCH = 1000


def works_index(records_index: OpenSearchIndex, alias: str = WORKS_ALIAS) -> OpenSearchIndex:
    """The works' index on the same cluster (and client) as the repository's records."""
    return OpenSearchIndex(records_index.client, alias)


def work_documents(session: Session, batch: int = BATCH,
                   progress: Callable[[int], None] | None = None) -> Iterator[list[Document]]:
    """Every merged work as a search document, a batch at a time."""
    docs: list[Document] = []
    for work, _members in iter_works(session, batch):
        pub = publication_from_dict(work.merged_record)
        docs.append(document_from_read_model(work.id, pub, published_at=work.updated,
                                             institutions=list(work.institutions or ())))
        if len(docs) >= batch:
            yield docs
            if progress:
                progress(len(docs))
            docs = []
    if docs:
        yield docs
        if progress:
            progress(len(docs))


def reindex_works(session: Session, index: OpenSearchIndex, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the works' index from the harvester's tables (no downtime: the alias swaps)."""
    return index.rebuild(work_documents(session, progress=progress))
