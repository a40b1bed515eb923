"""The OAI-PMH 2.0 provider: request checking, stateless resumption, sets, keyset queries and the streamed response.

``verbs.respond`` is the entry point: the web layer hands it the request's arguments and gets
back an iterator of bytes, with every database query already run (see ``writer``).
"""
