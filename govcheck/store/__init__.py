"""Storage, split by job: `schema` (models), `engine` (opening a database, sessions),
`writer` (the batched scan writer), `queries` (reads shared by scan, exports and reports)."""
