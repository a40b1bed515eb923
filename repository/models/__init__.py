"""SQLAlchemy models of the repository, by subject; importing the package registers them all."""

from repository.models.base import Base, UTCDateTime, utcnow
from repository.models.files import StoredFile
from repository.models.institutions import Institution, OrgUnit
from repository.models.people import Person, PersonNameForm
from repository.models.publication import (
    Abstract, Contributor, ContributorAffiliation, Funding, Keyword, Link, Note, Publication,
    PublicationIdentifier, PublicationLanguage, PublicationSubject, PublicationTitle, Relation,
    SeriesMembership, ThesisDetails,
)
from repository.models.stats import DownloadEvent
from repository.models.users import ROLES, User
from repository.models.workflow import WorkflowEvent
from repository.models.tokens import ApiToken, PasswordResetToken
from repository.models.security import LoginFailure
from repository.models.outbox import OutboxMessage

__all__ = [
    "Base", "UTCDateTime", "utcnow", "StoredFile", "Institution", "OrgUnit", "Person", "PersonNameForm",
    "Abstract", "Contributor", "ContributorAffiliation", "Funding", "Keyword", "Link", "Note", "Publication",
    "PublicationIdentifier", "PublicationLanguage", "PublicationSubject", "PublicationTitle", "Relation",
    "SeriesMembership", "ThesisDetails", "ROLES", "User", "WorkflowEvent", "DownloadEvent",
    "ApiToken", "PasswordResetToken", "LoginFailure", "OutboxMessage",
]

from repository.models.search import SearchDocument, SearchQueueItem, SearchState, SearchValue  # noqa: E402

__all__ += ["SearchDocument", "SearchQueueItem", "SearchState", "SearchValue"]

from repository.models.oai import OaiPayload  # noqa: E402

__all__ += ["OaiPayload"]
