//! The test harness itself: its database helpers read the same answers from SQLite and from
//! PostgreSQL (NULL, empty text, quotes, newlines, integers, row counts), and with several
//! nodes the request helpers spread requests over all of them.

mod common;

use common::*;

#[test]
fn database_helpers_answer_alike_on_both_backends() {
    let s = TestServer::start();
    s.add_user("ann");
    s.add_user("ben");
    let quoted = q("it's a\nline");
    let rows = s.sql_rows(&format!(
        "SELECT NULL, '', {quoted}, 42 UNION ALL SELECT 'x', 'y', 'z', 7"
    ));
    assert_eq!(
        rows,
        vec![
            vec![
                None,
                Some(String::new()),
                Some("it's a\nline".into()),
                Some("42".into())
            ],
            vec![
                Some("x".into()),
                Some("y".into()),
                Some("z".into()),
                Some("7".into())
            ],
        ]
    );
    assert_eq!(
        s.sql_rows("SELECT 1 WHERE 1 = 0"),
        Vec::<Vec<Option<String>>>::new()
    );
    assert_eq!(s.sql_rows("SELECT ''"), vec![vec![Some(String::new())]]);
    assert_eq!(s.sql_i64("SELECT COUNT(*) FROM server_users"), 2);
    assert_eq!(
        s.sql_col("SELECT username FROM server_users ORDER BY username"),
        ["ann", "ben"]
    );
    assert_eq!(
        s.sql_opt("SELECT email FROM server_users WHERE username = 'nobody' UNION ALL SELECT NULL"),
        None
    );
    assert_eq!(s.sql_exec("UPDATE server_users SET blocked = 0"), 2);
    assert_eq!(
        s.sql_exec("DELETE FROM server_users WHERE username = 'nobody'"),
        0
    );
    assert_eq!(
        s.sql_exec(&format!(
            "UPDATE server_users SET email = {} WHERE username = 'ann'",
            q("o'neil@example.test")
        )),
        1
    );
    assert_eq!(
        s.sql_str("SELECT email FROM server_users WHERE username = 'ann'"),
        "o'neil@example.test"
    );
}

#[test]
fn requests_alternate_between_the_nodes() {
    let Some(s) = TestServer::start_nodes(2, None, &[]) else {
        return;
    };
    assert_eq!(s.nodes(), 2);
    assert_ne!(s.addr_of(0), s.addr_of(1));
    // Each node counts its own requests: four requests, two each.
    for _ in 0..4 {
        assert_eq!(s.get("/livez", None).status, 200);
    }
    for i in 0..2 {
        let m = s.get_on(i, "/metrics", None).text();
        assert!(
            m.contains(
                "verstak_http_requests_total{route=\"/livez\",method=\"GET\",status=\"200\"} 2"
            ),
            "node {i}: {m}"
        );
    }
}
