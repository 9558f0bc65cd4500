//! The list parameters of the console pages and the admin API (§6.11, §6.13): a trimmed,
//! bounded filter value and the page / page-size pair.

use crate::web::form::Form;

/// A list filter value: trimmed, at most 160 characters.
pub(crate) fn filter(q: &Form, name: &str) -> String {
    q.get(name).trim().chars().take(160).collect()
}

/// `page` ≥ 1 and `per_page` in 1..=100 (default `def`).
pub(crate) fn paging(q: &Form, def: i64) -> (i64, i64) {
    let page = q.get("page").parse::<i64>().unwrap_or(1).max(1);
    let per = match q.get("per_page").parse::<i64>() {
        Ok(n) if (1..=100).contains(&n) => n,
        _ => def,
    };
    (page, per)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_paging_are_bounded() {
        let q = Form::parse(b"q=%20abc%20&page=0&per_page=101");
        assert_eq!(filter(&q, "q"), "abc");
        assert_eq!(filter(&q, "missing"), "");
        assert_eq!(paging(&q, 20), (1, 20));
        let long = Form::parse(format!("q={}", "x".repeat(200)).as_bytes());
        assert_eq!(filter(&long, "q").chars().count(), 160);
        assert_eq!(paging(&Form::parse(b"page=3&per_page=100"), 20), (3, 100));
        assert_eq!(paging(&Form::parse(b"page=x&per_page=0"), 50), (1, 50));
    }
}
