"""SQL lives only here: one module per table group, functions named after their statement
(select_/list_/insert_/update_/delete_/count_/exists_), the connection first, rows out.
Must not import services, api, realtime or protocol."""
