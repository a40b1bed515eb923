"""The OpenSearch backend: index template, alias swaps, bulk indexing, the durable queue and queries.

Documents are the embedded index's (``documents.build_*``), so both backends say the same
about a record. The alias (``hylla-publications``) always points at one concrete index; a full
reindex builds a new index beside it and moves the alias in one atomic ``_aliases`` call, so
searches never see a half-built index. Changes reach OpenSearch only after the database has
committed them: the session hook writes a ``search_queue`` row in the record's transaction and
``drain`` pushes the committed state afterwards; rows of a failed push stay, with a backoff, and
any later drain (the next commit, or ``flask search sync``) catches up.

Coded to OpenSearch's documented behaviour (refresh after bulk writes where a search must see
them, field-only sorts for ``search_after``) and tested against osmem-server and, when
OPENSEARCH_TEST_URL is set, a real cluster.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import NotFoundError, OpenSearchException, TransportError
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from repository.models import Publication, SearchQueueItem, utcnow
from repository.search.documents import Document, build_documents, build_range, roles
from repository.search.query import And, MatchAll, Node, Not, Or, Text, Value, YearRange, fold
from repository.search.service import (
    DEFAULT_FACET_SIZE, FACET_SIZE, FACETS, FacetCount, Plan, SearchResult, facet_order, finish,
)

log = logging.getLogger(__name__)

ALIAS = "hylla-publications"
TEMPLATE = "hylla-publications"
RETRY_STATUSES = (429, 502, 503, 504)
BULK_CHUNK = 500
QUEUE_BATCH = 500
MAX_BACKOFF = dt.timedelta(hours=1)
EXPORT_LIMIT = 30_000  # ids an export of a whole result set may hold (they travel as one IN list)

TEXT_FIELDS = {"title": 10, "names": 4, "subjects_text": 3, "abstract": 1, "other": 1}
FIELD_OF = {"title": "title", "author": "names", "subject": "subjects_text"}
SORT_FIELDS = {"newest": ("sort_date", "desc"), "oldest": ("sort_date", "asc"), "title": ("sort_title", "asc"),
               "added": ("published_at", "desc")}
OS_FIELD = {"type": "publication_type", "content": "content_type", "year": "year", "level": "thesis_level"}

_text = {"type": "text", "analyzer": "folding"}
_keyword = {"type": "keyword"}
INDEX_BODY: dict[str, Any] = {
    "settings": {
        "number_of_shards": 1,
        "analysis": {
            # Standard tokens, lower case, å/ä/ö folded to a/a/o for matching; _source keeps the
            # text as written, which is what pages show.
            "analyzer": {"folding": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}},
        },
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "pid": {"type": "long"},
            "institution": _keyword,
            "publication_type": _keyword, "content_type": _keyword, "thesis_level": _keyword,
            "year": {"type": "integer"},
            "open_from": {"type": "date", "format": "strict_date"},
            "public_from": {"type": "date"},
            "published_at": {"type": "date"},
            "sort_date": {"type": "integer"},
            "sort_title": _keyword,
            "title": {**_text, "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
            "names": _text, "subjects_text": _text, "abstract": _text, "other": _text,
            "unit": _keyword, "subject": _keyword, "language": _keyword, "person": _keyword,
            "orcid": _keyword, "identifier": _keyword,
            "contributors": {"type": "nested", "properties": {
                "name": _text, "orcid": _keyword, "person_id": {"type": "long"}, "roles": _keyword}},
        },
    },
}


def client_for(url: str, *, timeout: float = 30.0) -> OpenSearch:
    """A client that retries connection errors, timeouts and 429/5xx answers itself."""
    return OpenSearch(hosts=[url], timeout=timeout, max_retries=3, retry_on_timeout=True,
                      retry_on_status=RETRY_STATUSES)


def source(doc: Document) -> dict[str, Any]:
    """The JSON OpenSearch stores for a document."""
    return {
        "pid": doc.publication_id, "institution": doc.institution_code, "publication_type": doc.publication_type,
        "content_type": doc.content_type, "thesis_level": doc.thesis_level, "year": doc.year,
        "open_from": doc.open_from.isoformat() if doc.open_from else None,
        "public_from": _iso(doc.public_from), "published_at": _iso(doc.published_at),
        "sort_date": doc.sort_date, "sort_title": doc.sort_title, "title": doc.title_text, "names": doc.names_text,
        "subjects_text": doc.subject_text, "abstract": doc.abstract_text, "other": doc.other_text,
        "unit": doc.values.get("unit", []), "subject": doc.values.get("subject", []),
        "language": doc.values.get("language", []), "person": doc.values.get("person", []),
        "orcid": doc.values.get("orcid", []), "identifier": doc.values.get("id", []),
        "contributors": [{"name": name, "orcid": orcid, "person_id": person_id, "roles": roles(raw)}
                         for name, orcid, person_id, raw in doc.contributors],
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat() if value else None


@dataclass
class OpenSearchIndex:
    """One application's index: its client and alias."""

    client: OpenSearch
    alias: str = ALIAS

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> OpenSearchIndex:
        return cls(client_for(config["SEARCH_URL"]), config.get("SEARCH_INDEX", ALIAS))

    def backend(self) -> OpenSearchBackend:
        return OpenSearchBackend(self)

    # -- indices and the alias ----------------------------------------------------------------------

    def put_template(self) -> None:
        self.client.indices.put_index_template(name=self.alias, body={"index_patterns": [f"{self.alias}-*"],
                                                                      "template": INDEX_BODY})

    def new_index(self) -> str:
        name = f"{self.alias}-{dt.datetime.now(dt.timezone.utc):%Y%m%d%H%M%S%f}"
        self.put_template()
        self.client.indices.create(index=name)
        return name

    def current_indices(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def ensure(self) -> None:
        """Create the template and a first index behind the alias if there is none."""
        if not self.current_indices():
            name = self.new_index()
            self.client.indices.put_alias(index=name, name=self.alias)

    def swap(self, new: str) -> list[str]:
        """Point the alias at ``new`` in one atomic step; return the indices it left."""
        old = self.current_indices()
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
        actions.append({"add": {"index": new, "alias": self.alias}})
        self.client.indices.update_aliases(body={"actions": actions})
        return [i for i in old if i != new]

    # -- writing --------------------------------------------------------------------------------------

    def push(self, docs: list[Document], gone: Iterable[int], *, index: str | None = None,
             refresh: bool = False) -> None:
        """Bulk-write documents and deletions; 429s are retried with backoff by the helper."""
        target = index or self.alias

        def actions() -> Iterator[dict[str, Any]]:
            for doc in docs:
                yield {"_op_type": "index", "_index": target, "_id": str(doc.publication_id), "_source": source(doc)}
            for pid in gone:
                yield {"_op_type": "delete", "_index": target, "_id": str(pid)}

        _, errors = helpers.bulk(self.client, actions(), chunk_size=BULK_CHUNK, max_retries=5, initial_backoff=1,
                                 raise_on_error=False, raise_on_exception=True)
        failed = [e for e in errors if next(iter(e.values())).get("status") != 404]  # deleting the absent is fine
        if failed:
            raise OpenSearchException(f"{len(failed)} bulk operations failed, first: {failed[0]}")
        if refresh:
            self.client.indices.refresh(index=target)

    def drain(self, factory: sessionmaker[Session], ids: Iterable[int] | None = None, *,
              limit: int = QUEUE_BATCH, due_only: bool = True) -> int:
        """Push queued changes (``ids`` first, then any due) to OpenSearch; return how many were sent.

        Reads the committed state in a session of its own. On failure the rows stay, with their
        next attempt pushed back, and the error is logged: the record is safe in the database.
        """
        with factory() as session:
            now = utcnow()
            due = select(SearchQueueItem.id, SearchQueueItem.publication_id)
            if due_only:
                due = due.where(SearchQueueItem.next_attempt_at <= now)
            rows = list(session.execute(due.order_by(SearchQueueItem.id).limit(limit)))
            if ids:
                wanted = set(ids)
                rows += list(session.execute(due.where(SearchQueueItem.publication_id.in_(wanted),
                                                       SearchQueueItem.id.not_in([r.id for r in rows]))))
            if not rows:
                return 0
            row_ids = [r.id for r in rows]
            pids = sorted({r.publication_id for r in rows})
            conn = session.connection()
            try:
                docs, gone = build_documents(conn, pids)
                self.push(docs, gone, refresh=True)
            except (OpenSearchException, TransportError, ConnectionError) as exc:
                self._postpone(session, row_ids, exc)
                return 0
            session.execute(delete(SearchQueueItem).where(SearchQueueItem.id.in_(row_ids)))
            session.commit()
            log.info("search queue drained records=%s", len(pids))
            return len(pids)

    def _postpone(self, session: Session, row_ids: list[int], exc: Exception) -> None:
        attempts = session.execute(select(SearchQueueItem.attempts).where(SearchQueueItem.id == row_ids[0])).scalar_one()
        delay = min(MAX_BACKOFF, dt.timedelta(seconds=5 * 2 ** min(attempts, 12)))
        session.execute(update(SearchQueueItem).where(SearchQueueItem.id.in_(row_ids)).values(
            attempts=SearchQueueItem.attempts + 1, next_attempt_at=utcnow() + delay, last_error=str(exc)[:2000]))
        session.commit()
        log.warning("search server unreachable, %s queued changes kept for retry in %s: %s", len(row_ids), delay, exc)

    def rebuild(self, batches: Iterable[list[Document]]) -> int:
        """Fill a new index from ``batches``, then swap the alias to it and drop the old ones.

        Searches keep answering from the old index until the swap, which is one atomic call.
        """
        name = self.new_index()
        total = 0
        for docs in batches:
            self.push(docs, (), index=name)
            total += len(docs)
        self.client.indices.refresh(index=name)
        for index in self.swap(name):
            self.client.indices.delete(index=index, ignore_unavailable=True)
        log.info("search index rebuilt alias=%s index=%s documents=%s", self.alias, name, total)
        return total

    def reindex(self, conn: Connection, *, batch_size: int = 2000,
                progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the index of the repository's records from the database.

        Records changed while the build ran are written again after the swap, so none is left
        behind.
        """
        started = utcnow()
        ids = list(conn.execute(select(Publication.id).order_by(Publication.id)).scalars())

        def batches() -> Iterator[list[Document]]:
            for start in range(0, len(ids), batch_size):
                chunk = ids[start:start + batch_size]
                yield build_range(conn, chunk[0], chunk[-1])[0]
                if progress:
                    progress(len(chunk))

        total = self.rebuild(batches())
        changed = list(conn.execute(select(Publication.id).where(Publication.updated_at >= started)).scalars())
        if changed:
            docs, gone = build_documents(conn, changed)
            self.push(docs, gone, refresh=True)
        return total


# --- queries ------------------------------------------------------------------------------------------

def _words_query(node: Text) -> dict[str, Any]:
    fields = [FIELD_OF[node.field]] if node.field else [f"{f}^{w}" for f, w in TEXT_FIELDS.items()]
    text = " ".join(node.words)
    if node.prefix and len(node.words) == 1:
        names = [f.split("^")[0] for f in fields]
        return {"bool": {"should": [{"prefix": {f: fold(node.words[0])}} for f in names], "minimum_should_match": 1}}
    if node.prefix:
        return {"multi_match": {"query": text, "type": "phrase_prefix", "fields": fields, "max_expansions": 200}}
    if len(node.words) > 1:
        return {"multi_match": {"query": text, "type": "phrase", "fields": fields}}
    return {"multi_match": {"query": text, "fields": fields, "operator": "and"}}


def compile_query(node: Node) -> dict[str, Any]:
    if isinstance(node, MatchAll):
        return {"match_all": {}}
    if isinstance(node, Text):
        return _words_query(node)
    if isinstance(node, Value):
        if node.facet == "orcid":
            return {"nested": {"path": "contributors", "query": {"term": {"contributors.orcid": node.value}}}}
        return {"term": {"identifier" if node.facet == "id" else node.facet: node.value}}
    if isinstance(node, YearRange):
        bounds = {k: v for k, v in (("gte", node.low), ("lte", node.high)) if v is not None}
        return {"range": {"year": bounds}}
    if isinstance(node, And):
        must = [compile_query(i) for i in node.items if not isinstance(i, Not)]
        must_not = [compile_query(i.item) for i in node.items if isinstance(i, Not)]
        return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}
    if isinstance(node, Or):
        return {"bool": {"should": [compile_query(i) for i in node.items], "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must": [{"match_all": {}}], "must_not": [compile_query(node.item)]}}
    raise TypeError(f"unknown query node {node!r}")


def _filters(plan: Plan) -> list[dict[str, Any]]:
    now = plan.now.astimezone(dt.timezone.utc).isoformat()
    out: list[dict[str, Any]] = [{"bool": {"should": [{"bool": {"must_not": {"exists": {"field": "public_from"}}}},
                                                      {"range": {"public_from": {"lte": now}}}],
                                           "minimum_should_match": 1}}]
    for name, values in plan.filters.items():
        if name in OS_FIELD:
            out.append({"terms": {OS_FIELD[name]: [int(v) for v in values] if name == "year" else list(values)}})
        elif name == "oa":
            is_open = {"range": {"open_from": {"lte": plan.today.isoformat()}}}
            if values == ("true",):
                out.append(is_open)
            elif values == ("false",):
                out.append({"bool": {"must_not": [is_open]}})
        else:
            out.extend({"term": {name: v}} for v in values)
    return out


def _aggregations(plan: Plan) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for name in FACETS:
        if name == "oa":
            aggs[name] = {"filter": {"range": {"open_from": {"lte": plan.today.isoformat()}}}}
        else:
            aggs[name] = {"terms": {"field": OS_FIELD.get(name, name),
                                    "size": FACET_SIZE.get(name, DEFAULT_FACET_SIZE)}}
    return aggs


class OpenSearchBackend:
    name = "opensearch"

    def __init__(self, index: OpenSearchIndex) -> None:
        self.index = index

    def body(self, plan: Plan) -> dict[str, Any]:
        body: dict[str, Any] = {
            "query": {"bool": {"must": [compile_query(plan.node)], "filter": _filters(plan)}},
            "size": plan.size, "track_total_hits": True,
            "_source": ["pid", "sort_date", "sort_title", "published_at"],
        }
        if plan.sort == "relevance":
            body["sort"] = ["_score", {"pid": "desc"}]
            body["from"] = plan.offset
        else:
            field, order = SORT_FIELDS[plan.sort]
            body["sort"] = [{field: order}, {"pid": order}]
            if plan.after is not None:
                value = plan.after[0]
                if isinstance(value, dt.datetime):
                    value = int(value.timestamp() * 1000)
                body["search_after"] = [value, plan.after[1]]
            elif plan.offset:
                body["from"] = plan.offset
        if plan.facets:
            body["aggs"] = _aggregations(plan)
        return body

    def search(self, plan: Plan) -> SearchResult:
        answer = self.index.client.search(index=self.index.alias, body=self.body(plan))
        rows = []
        for hit in answer["hits"]["hits"]:
            src = hit["_source"]
            value = {"newest": src.get("sort_date"), "oldest": src.get("sort_date"), "title": src.get("sort_title"),
                     "added": dt.datetime.fromisoformat(src["published_at"]) if src.get("published_at") else None,
                     }.get(plan.sort)
            rows.append((int(src["pid"]), value))
        facets: dict[str, list[FacetCount]] = {}
        for name, agg in (answer.get("aggregations") or {}).items():
            if name == "oa":
                counts = {"true": int(agg["doc_count"])}
            else:
                counts = {str(b.get("key_as_string", b["key"])): int(b["doc_count"]) for b in agg["buckets"]}
            facets[name] = facet_order(name, counts)
        return finish(plan, int(answer["hits"]["total"]["value"]), rows, facets)

    def id_query(self, plan: Plan) -> list[int]:
        """Every hit's id (newest first), up to EXPORT_LIMIT, by ``search_after`` pages."""
        body = {"query": self.body(plan)["query"], "size": 1000, "_source": False,
                "sort": [{"sort_date": "desc"}, {"pid": "desc"}], "docvalue_fields": ["pid"]}
        ids: list[int] = []
        while len(ids) < EXPORT_LIMIT:
            hits = self.index.client.search(index=self.index.alias, body=body)["hits"]["hits"]
            if not hits:
                break
            ids.extend(int(h["_id"]) for h in hits)
            body["search_after"] = hits[-1]["sort"]
        return ids[:EXPORT_LIMIT]

