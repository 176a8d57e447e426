-- wrk script of `cargo bench --bench http_vs_node`: the message every server answers.
wrk.method = "POST"
wrk.body = '{"im":"qq","user":"1","user_name":"load","text":"hello"}'
wrk.headers["Content-Type"] = "application/json"
