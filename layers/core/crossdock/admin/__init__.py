"""The admin API (issue 17): what operators and merchants do over HTTP, on top of `crossdock.operations`.

`app.resolver` is the Powertools REST resolver with every router included; `functions/admin_api` only resolves.
The routes never reimplement an operation: they check who is calling (`caller`), whether the connection is theirs
(`tenancy`), call the operation, record the change (`audit`) and shape the answer (`models`); refusals become the
one error body of `errors`.
"""
