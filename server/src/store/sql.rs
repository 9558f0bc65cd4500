//! One SQL interface over the two databases the store runs on: SQLite (the embedded default)
//! and PostgreSQL (`--database-url`).
//!
//! Store functions take a [`Conn`] and read like rusqlite code (`prepare_cached`, `execute`,
//! `query_row`, `query_map`, `params!`, `optional()`), so each rule of the spec is written
//! once. SQL is written in the subset both accept (`?N` parameters, `ON CONFLICT`,
//! `RETURNING`, `COALESCE`). For PostgreSQL each statement is rewritten once and cached:
//! `?N` becomes `$N` and `LIKE` becomes `ILIKE` (SQLite's `LIKE` ignores ASCII case).
//! The few places that differ beyond that ask [`Conn::is_pg`]; a push on PostgreSQL binds
//! arrays through [`Conn::pg`] and [`PgConn::query_typed`] (`ops_pg`).
//!
//! Values cross as [`Value`]: integers (booleans are 0/1), reals, text, blobs and NULL, which
//! is what the SQLite schema stores; the PostgreSQL schema uses `BIGINT`, `TEXT` and `BYTEA`.

use std::cell::RefCell;
use std::collections::HashMap;

/// A database failure, from either backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {}", pg_detail(.0))]
    Pg(#[from] postgres::Error),
    /// `query_row` found no row ([`OptionalExtension::optional`] turns it into `None`).
    #[error("query returned no rows")]
    NoRows,
    #[error("column {0}: {1}")]
    Type(usize, String),
    #[error("{0}")]
    Usage(String),
}

/// A PostgreSQL error with the server's message (its `Display` alone says only "db error").
fn pg_detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{} ({}): {}",
            db.message(),
            db.code().code(),
            db.detail().unwrap_or("")
        ),
        None => e.to_string(),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One value bound to a parameter or read from a column.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// An owned parameter, for lists built at run time ([`params_from_iter`]).
#[derive(Debug, Clone)]
pub enum OwnedValue {
    Int(i64),
    Text(String),
}

impl ToValue for OwnedValue {
    fn value(&self) -> Value<'_> {
        match self {
            OwnedValue::Int(i) => Value::Int(*i),
            OwnedValue::Text(s) => Value::Text(s),
        }
    }
}

/// A Rust value that can be bound to a parameter.
pub trait ToValue {
    fn value(&self) -> Value<'_>;
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_to_value!(i64, i32, u32, u16, u8, usize, u64);

impl ToValue for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl ToValue for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl ToValue for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl ToValue for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

/// A column read into a Rust value.
pub trait FromValue: Sized {
    fn from_value(v: Value<'_>) -> Result<Self, String>;
}

fn found(v: &Value<'_>) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Int(_) => "an integer",
        Value::Real(_) => "a real",
        Value::Text(_) => "text",
        Value::Blob(_) => "a blob",
    }
}

impl FromValue for i64 {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(i),
            other => Err(format!("expected an integer, found {}", found(&other))),
        }
    }
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Value<'_>) -> Result<Self, String> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| format!("{i} is out of range for {}", stringify!($t)))
            }
        }
    )*};
}
int_from_value!(i32, u32, u16, u8, usize, u64);

impl FromValue for bool {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        Ok(i64::from_value(v)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        match v {
            Value::Real(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => Err(format!("expected a number, found {}", found(&other))),
        }
    }
}
impl FromValue for String {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.to_owned()),
            other => Err(format!("expected text, found {}", found(&other))),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b.to_vec()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(format!("expected a blob, found {}", found(&other))),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// Parameters of one statement: `params![a, b]`, `params![]` or [`params_from_iter`].
pub trait Params {
    fn with<R>(&self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R;
}

impl Params for [&dyn ToValue; 0] {
    fn with<R>(&self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R {
        f(&[])
    }
}

impl Params for &[&dyn ToValue] {
    fn with<R>(&self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R {
        f(self)
    }
}

/// Parameters taken from an iterator (a list whose length is known only at run time).
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator + Clone,
    I::Item: ToValue,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator + Clone,
    I::Item: ToValue,
{
    fn with<R>(&self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R {
        let owned: Vec<I::Item> = self.0.clone().into_iter().collect();
        let refs: Vec<&dyn ToValue> = owned.iter().map(|v| v as &dyn ToValue).collect();
        f(&refs)
    }
}

/// `params![a, b, …]`: a parameter list for [`Stmt`] and [`Conn`] calls.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::store::sql::ToValue]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::store::sql::ToValue),+] as &[&dyn $crate::store::sql::ToValue]
    };
}
pub(crate) use params;

/// `query_row(…).optional()`: no row is `None`, every other failure stays an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) | Err(Error::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// A connection to either database. Used by one thread at a time (the writer, or a reader
/// that took it from the pool).
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Pg(Box<PgConn>),
}

/// A PostgreSQL connection with its statement cache (statements are prepared once per
/// connection, like rusqlite's `prepare_cached`).
pub struct PgConn {
    client: RefCell<postgres::Client>,
    cache: RefCell<HashMap<String, postgres::Statement>>,
}

impl PgConn {
    pub(crate) fn new(client: postgres::Client) -> Box<PgConn> {
        Box::new(PgConn {
            client: RefCell::new(client),
            cache: RefCell::new(HashMap::new()),
        })
    }

    /// Whether the server closed the connection (it is then not returned to the pool).
    pub(crate) fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.cache.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.client.borrow_mut().prepare(&pg_sql(sql))?;
        self.cache.borrow_mut().insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn run<R>(
        &self,
        stmt: &postgres::Statement,
        params: &[&dyn ToValue],
        f: impl FnOnce(&mut postgres::Client, &[&(dyn postgres::types::ToSql + Sync)]) -> R,
    ) -> Result<R> {
        if params.len() != stmt.params().len() {
            return Err(wrong_count(stmt.params().len(), params.len()));
        }
        let values: Vec<PgParam<'_>> = params.iter().map(|p| PgParam(p.value())).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        Ok(f(&mut self.client.borrow_mut(), &refs))
    }

    /// Runs a cached statement whose parameters are bound in PostgreSQL's own types: arrays,
    /// which [`Value`] does not have. The batch forms of a push bind one array per column
    /// (`unnest($3::text[], …)`), so a push is a few statements however many ops it has.
    /// `sql` is PostgreSQL's own (`$N` parameters, which the rewriting leaves alone).
    pub(crate) fn query_typed(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>> {
        let stmt = self.statement(sql)?;
        Ok(self.client.borrow_mut().query(&stmt, params)?)
    }
}

fn wrong_count(want: usize, got: usize) -> Error {
    Error::Usage(format!("statement takes {want} parameters, {got} given"))
}

impl Conn {
    /// Whether this is a PostgreSQL connection.
    pub fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// The SQLite connection, for the parts only SQLite has (PRAGMAs, checkpoints, backup).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    /// The PostgreSQL connection, for the few statements written for it alone (arrays).
    pub fn pg(&self) -> Option<&PgConn> {
        match self {
            Conn::Sqlite(_) => None,
            Conn::Pg(p) => Some(p),
        }
    }

    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>> {
        match self {
            Conn::Sqlite(c) => Ok(Stmt::Sqlite(c.prepare_cached(sql)?)),
            Conn::Pg(p) => Ok(Stmt::Pg(p, p.statement(sql)?)),
        }
    }

    /// Same as [`Conn::prepare_cached`]; kept for statements built at run time, which SQLite
    /// should not keep in its cache.
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>> {
        match self {
            Conn::Sqlite(c) => Ok(Stmt::SqliteOnce(c.prepare(sql)?)),
            Conn::Pg(p) => Ok(Stmt::Pg(p, p.statement(sql)?)),
        }
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P: Params, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs several statements without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(p) => Ok(p.client.borrow_mut().batch_execute(sql)?),
        }
    }

    /// A read transaction, so that several reads see one state. Only on a connection that is
    /// not in a transaction already (a reader's).
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        let begin = match self {
            Conn::Sqlite(_) => "BEGIN DEFERRED",
            Conn::Pg(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        self.execute_batch(begin)?;
        Ok(Snapshot {
            conn: self,
            open: true,
        })
    }
}

/// A read transaction opened by [`Conn::snapshot`]; dereferences to its connection.
pub struct Snapshot<'c> {
    conn: &'c Conn,
    open: bool,
}

impl Snapshot<'_> {
    /// Ends the transaction.
    pub fn finish(mut self) -> Result<()> {
        self.open = false;
        self.conn.execute_batch("COMMIT")
    }
}

impl std::ops::Deref for Snapshot<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A prepared statement.
pub enum Stmt<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    SqliteOnce(rusqlite::Statement<'c>),
    Pg(&'c PgConn, postgres::Statement),
}

impl<'c> Stmt<'c> {
    fn sqlite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match self {
            Stmt::Sqlite(s) => Some(s),
            Stmt::SqliteOnce(s) => Some(s),
            Stmt::Pg(..) => None,
        }
    }

    /// Binds every parameter of a SQLite statement.
    fn bind(s: &mut rusqlite::Statement<'_>, params: &[&dyn ToValue]) -> Result<()> {
        if params.len() != s.parameter_count() {
            return Err(wrong_count(s.parameter_count(), params.len()));
        }
        for (i, p) in params.iter().enumerate() {
            s.raw_bind_parameter(i + 1, SqliteParam(p.value()))?;
        }
        Ok(())
    }

    /// Runs a statement that returns no rows; the number of rows changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        if let Some(s) = self.sqlite() {
            return params.with(|p| {
                Self::bind(s, p)?;
                Ok(s.raw_execute()?)
            });
        }
        let Stmt::Pg(conn, stmt) = self else {
            unreachable!()
        };
        let n = params.with(|p| conn.run(stmt, p, |c, v| c.execute(stmt, v)))??;
        Ok(n as usize)
    }

    /// The first row through `f`, or [`Error::NoRows`].
    pub fn query_row<T, P: Params, F>(&mut self, params: P, f: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::NoRows),
        }
    }

    /// Whether the query returns at least one row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }

    /// The rows, one at a time (SQLite) or read at once (PostgreSQL).
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let s = match self {
            Stmt::Sqlite(s) => &mut **s,
            Stmt::SqliteOnce(s) => s,
            Stmt::Pg(conn, stmt) => {
                let rows = params.with(|p| conn.run(stmt, p, |c, v| c.query(&*stmt, v)))??;
                return Ok(Rows::Pg(rows.into_iter(), None));
            }
        };
        params.with(|p| {
            Self::bind(s, p)?;
            Ok(Rows::Sqlite(s.raw_query()))
        })
    }

    /// Every row through `f`.
    pub fn query_map<T, P: Params, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }
}

/// The rows of a query.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Pg(std::vec::IntoIter<postgres::Row>, Option<postgres::Row>),
}

impl Rows<'_> {
    /// The next row, or `None` after the last.
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(r) => Ok(r.next()?.map(Row::Sqlite)),
            Rows::Pg(it, cur) => {
                *cur = it.next();
                Ok(cur.as_ref().map(Row::Pg))
            }
        }
    }
}

/// [`Stmt::query_map`]'s iterator.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(r)) => Some((self.f)(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A column number (from 0).
pub trait Column {
    fn index(self) -> usize;
}

impl Column for usize {
    fn index(self) -> usize {
        self
    }
}

/// One row.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Pg(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `idx` (from 0) as `T`.
    pub fn get<I: Column, T: FromValue>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        let conv = |v: Value<'_>| T::from_value(v).map_err(|m| Error::Type(idx, m));
        match self {
            Row::Sqlite(r) => {
                let v = match r.get_ref(idx)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                    rusqlite::types::ValueRef::Real(f) => Value::Real(f),
                    rusqlite::types::ValueRef::Text(t) => Value::Text(
                        std::str::from_utf8(t).map_err(|e| Error::Type(idx, e.to_string()))?,
                    ),
                    rusqlite::types::ValueRef::Blob(b) => Value::Blob(b),
                };
                conv(v)
            }
            Row::Pg(r) => {
                let raw: PgValue<'_> = r.try_get(idx)?;
                conv(raw.0)
            }
        }
    }
}

struct SqliteParam<'a>(Value<'a>);

impl rusqlite::ToSql for SqliteParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(i),
            Value::Real(f) => ValueRef::Real(f),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// A parameter for PostgreSQL, written in whatever type the server inferred for it.
#[derive(Debug)]
struct PgParam<'a>(Value<'a>);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl postgres::types::ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, BoxError> {
        use postgres::types::{IsNull, Type};
        match (self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(i)?.to_sql(ty, out),
            (Value::Int(i), &Type::BOOL) => (i != 0).to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT8) => (i as f64).to_sql(ty, out),
            (Value::Int(i), t) if is_text(t) => i.to_string().as_str().to_sql(&Type::TEXT, out),
            (Value::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Value::Real(f), &Type::FLOAT4) => (f as f32).to_sql(ty, out),
            (Value::Text(s), t) if is_text(t) => s.to_sql(&Type::TEXT, out),
            (Value::Text(s), &Type::BYTEA) => s.as_bytes().to_sql(ty, out),
            (Value::Blob(b), &Type::BYTEA) => b.to_sql(ty, out),
            (v, t) => Err(format!("cannot bind {} to a {t} parameter", found(&v)).into()),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn is_text(t: &postgres::types::Type) -> bool {
    use postgres::types::Type;
    matches!(
        *t,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// A column read from PostgreSQL as a [`Value`].
struct PgValue<'a>(Value<'a>);

impl<'a> postgres::types::FromSql<'a> for PgValue<'a> {
    fn from_sql(ty: &postgres::types::Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        use postgres::types::Type;
        Ok(PgValue(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => Value::Blob(raw),
            ref t if is_text(t) => Value::Text(std::str::from_utf8(raw)?),
            ref t => return Err(format!("unsupported column type {t}").into()),
        }))
    }

    fn from_sql_null(_: &postgres::types::Type) -> Result<Self, BoxError> {
        Ok(PgValue(Value::Null))
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
}

/// Decodes PostgreSQL's binary `NUMERIC` (what `SUM` of a `BIGINT` returns): an integer when
/// it has no fraction, else a real.
fn numeric(raw: &[u8]) -> Result<Value<'static>, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        raw.get(i..i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "short numeric".into())
    };
    let (ndigits, weight, sign) = (word(0)? as usize, word(2)? as i32, word(4)? as u16);
    if sign == 0xC000 {
        return Err("NaN in a numeric column".into());
    }
    let mut int: i128 = 0;
    let mut frac = 0.0f64;
    for d in 0..ndigits {
        let digit = i128::from(word(8 + 2 * d)?);
        let power = weight - d as i32;
        if power >= 0 {
            int = int
                .checked_mul(10_000)
                .and_then(|v| v.checked_add(digit))
                .ok_or("numeric overflow")?;
        } else {
            frac += digit as f64 * 10_000f64.powi(power);
        }
    }
    // Trailing zero groups are not stored: scale the integer part up to its weight.
    let stored_int_groups = ndigits.min((weight + 1).max(0) as usize) as i32;
    for _ in stored_int_groups..(weight + 1) {
        int = int.checked_mul(10_000).ok_or("numeric overflow")?;
    }
    let negative = sign == 0x4000;
    if frac == 0.0 {
        let v = i64::try_from(int)?;
        Ok(Value::Int(if negative { -v } else { v }))
    } else {
        let v = int as f64 + frac;
        Ok(Value::Real(if negative { -v } else { v }))
    }
}

/// Rewrites a statement for PostgreSQL: `?N` → `$N`, a bare `?` → the next number (as SQLite
/// numbers it), `LIKE` → `ILIKE`, and SQLite's index hints (`INDEXED BY name`) are dropped
/// (PostgreSQL's planner picks the same partial indexes itself). Quoted strings and
/// identifiers are left alone.
pub(crate) fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    let mut highest = 0u32;
    let bytes = sql.as_bytes();
    while let Some((i, ch)) = chars.next() {
        match ch {
            '\'' | '"' => {
                out.push(ch);
                for (_, c) in chars.by_ref() {
                    out.push(c);
                    if c == ch {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    digits.push(d);
                    chars.next();
                }
                let n = if digits.is_empty() {
                    highest + 1
                } else {
                    digits.parse().unwrap_or(0)
                };
                highest = highest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            'I' if sql[i..].starts_with("INDEXED BY ") && (i == 0 || !is_word(bytes[i - 1])) => {
                // Skip the keywords and the index name.
                let rest = &sql[i + "INDEXED BY ".len()..];
                let name = rest.len() - rest.trim_start_matches(|c: char| is_word(c as u8)).len();
                for _ in 0.."INDEXED BY ".len() - 1 + name {
                    chars.next();
                }
            }
            'L' if sql[i..].starts_with("LIKE")
                && (i == 0 || !is_word(bytes[i - 1]))
                && !bytes.get(i + 4).is_some_and(|b| is_word(*b)) =>
            {
                out.push_str("ILIKE");
                for _ in 0..3 {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_rewritten_for_postgres() {
        assert_eq!(
            pg_sql("SELECT a FROM t WHERE x = ?1 AND y LIKE ?2 ESCAPE '\\' AND z = '?3 LIKE'"),
            "SELECT a FROM t WHERE x = $1 AND y ILIKE $2 ESCAPE '\\' AND z = '?3 LIKE'"
        );
        assert_eq!(pg_sql("VALUES (?, ?, ?5, ?)"), "VALUES ($1, $2, $5, $6)");
        assert_eq!(
            pg_sql("SELECT a FROM t INDEXED BY idx_t_a WHERE a > ?1"),
            "SELECT a FROM t  WHERE a > $1"
        );
        assert_eq!(
            pg_sql("SELECT LIKELY, UNLIKE FROM t"),
            "SELECT LIKELY, UNLIKE FROM t"
        );
    }

    #[test]
    fn numeric_decodes_integers_and_fractions() {
        fn enc(ndigits: i16, weight: i16, sign: u16, digits: &[i16]) -> Vec<u8> {
            let mut v = Vec::new();
            for w in [ndigits, weight, sign as i16, 0] {
                v.extend_from_slice(&w.to_be_bytes());
            }
            for d in digits {
                v.extend_from_slice(&d.to_be_bytes());
            }
            v
        }
        let int = |raw: Vec<u8>| match numeric(&raw).unwrap() {
            Value::Int(i) => i,
            other => panic!("{other:?}"),
        };
        assert_eq!(int(enc(0, 0, 0, &[])), 0);
        assert_eq!(int(enc(1, 0, 0, &[1234])), 1234);
        assert_eq!(int(enc(2, 1, 0, &[12, 3456])), 123_456);
        // 1_0000_0000: one stored group with weight 2.
        assert_eq!(int(enc(1, 2, 0, &[1])), 100_000_000);
        assert_eq!(int(enc(1, 0, 0x4000, &[7])), -7);
        match numeric(&enc(2, 0, 0, &[1, 5000])).unwrap() {
            Value::Real(f) => assert!((f - 1.5).abs() < 1e-9),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sqlite_round_trips_values() {
        let c = Conn::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute_batch("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n TEXT)")
            .unwrap();
        let n: Option<String> = None;
        c.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
            params![42i64, "x", vec![1u8, 2], n],
        )
        .unwrap();
        let got: (i64, String, Vec<u8>, Option<String>, bool) = c
            .query_row("SELECT i, s, b, n, i FROM t", params![], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap();
        assert_eq!(got, (42, "x".into(), vec![1, 2], None, true));
        let none = c
            .query_row("SELECT i FROM t WHERE i = ?1", params![7], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .unwrap();
        assert_eq!(none, None);
        assert!(matches!(
            c.execute("INSERT INTO t (i) VALUES (?1)", params![]),
            Err(Error::Usage(_))
        ));
    }
}
