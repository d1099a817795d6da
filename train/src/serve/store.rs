//! The rating database: raters and their answers, in SQLite (one file, WAL, fsync on commit)
//! or PostgreSQL, through one set of SQL statements (sqlx's `any` driver; `$N` placeholders
//! and `ON CONFLICT` work in both). An answer is acknowledged only after its statement has
//! committed, so an acknowledged answer survives a crash of the server.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, Row};
use srkd_core::study::{RaterSession, Rating};

/// Version of the schema below; stored so that a later release can migrate.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS srkd_schema (version BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS raters (
        study TEXT NOT NULL,
        rater TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_ms BIGINT NOT NULL,
        is_excluded BIGINT NOT NULL DEFAULT 0,
        exclusion_reason TEXT,
        PRIMARY KEY (study, rater))",
    "CREATE TABLE IF NOT EXISTS answers (
        study TEXT NOT NULL,
        rater TEXT NOT NULL,
        image TEXT NOT NULL,
        method TEXT NOT NULL,
        score BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
        response_ms DOUBLE PRECISION,
        answered_ms BIGINT NOT NULL,
        PRIMARY KEY (study, rater, image, method),
        FOREIGN KEY (study, rater) REFERENCES raters (study, rater))",
    "CREATE INDEX IF NOT EXISTS answers_by_study ON answers (study)",
];

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    postgres: bool,
}

/// A rater as the database knows them.
#[derive(Clone, Debug)]
pub struct RaterRow {
    pub study: String,
    pub rater: String,
    pub excluded: Option<String>,
}

/// Registering a rater can fail because the name is taken or the study is full.
pub enum Registered {
    Ok,
    NameTaken,
    StudyFull,
}

/// `sqlite:FILE` (created if missing) or `postgres://…`.
pub fn describe_url(url: &str) -> String {
    match url.split_once('@') {
        // Never print a password.
        Some((_, host)) if url.starts_with("postgres") => format!("postgres://…@{host}"),
        _ => url.to_string(),
    }
}

impl Store {
    pub async fn open(url: &str) -> Result<Self> {
        install_default_drivers();
        let url = if let Some(file) = url.strip_prefix("sqlite:") {
            let file = file.trim_start_matches("//");
            if file.is_empty() || file.contains('?') {
                bail!("--db sqlite:FILE: give a file name (options are set by srkd)");
            }
            if let Some(parent) = Path::new(file).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("{}: cannot create folder", parent.display()))?;
            }
            format!("sqlite://{file}?mode=rwc")
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.to_string()
        } else {
            bail!("--db `{url}`: expected sqlite:FILE or postgres://USER@HOST/DB");
        };
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // Writers wait for each other instead of failing; FULL = fsync on commit.
                        conn.execute("PRAGMA busy_timeout = 30000").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("cannot open the database {}", describe_url(&url)))?;
        if sqlite {
            pool.execute("PRAGMA journal_mode = WAL").await.context("switching SQLite to WAL")?;
        }
        let store = Self { pool, postgres: !sqlite };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for statement in SCHEMA {
            tx.execute(statement).await.context("creating the schema")?;
        }
        let version: Option<i64> =
            sqlx::query("SELECT MAX(version) AS v FROM srkd_schema").fetch_one(&mut *tx).await?.try_get("v")?;
        match version {
            None => {
                sqlx::query("INSERT INTO srkd_schema (version) VALUES ($1)")
                    .bind(SCHEMA_VERSION)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(v) => bail!("the database has schema version {v}; this srkd knows {SCHEMA_VERSION}"),
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn count_raters(&self, study: &str) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM raters WHERE study = $1")
            .bind(study)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    /// Register `rater` unless the name is taken or the study has `max_raters` already. The
    /// count and the insert are one step: concurrent registrations never exceed the cap.
    pub async fn register(
        &self,
        study: &str,
        rater: &str,
        token_hash: &str,
        now_ms: i64,
        max_raters: i64,
    ) -> Result<Registered> {
        let mut tx = self.pool.begin().await?;
        if self.postgres {
            // Registrations of one study take turns (SQLite's single writer does this by itself).
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(study).execute(&mut *tx).await?;
        }
        let inserted = sqlx::query(
            "INSERT INTO raters (study, rater, token_hash, created_ms)
             SELECT $1, $2, $3, $4 WHERE (SELECT COUNT(*) FROM raters WHERE study = $1) < $5
             ON CONFLICT DO NOTHING",
        )
        .bind(study)
        .bind(rater)
        .bind(token_hash)
        .bind(now_ms)
        .bind(max_raters)
        .execute(&mut *tx)
        .await?;
        let registered = if inserted.rows_affected() == 1 {
            Registered::Ok
        } else {
            let taken = sqlx::query("SELECT 1 AS taken FROM raters WHERE study = $1 AND rater = $2")
                .bind(study)
                .bind(rater)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() { Registered::NameTaken } else { Registered::StudyFull }
        };
        tx.commit().await?;
        Ok(registered)
    }

    pub async fn rater_by_token(&self, study: &str, token_hash: &str) -> Result<Option<RaterRow>> {
        let row =
            sqlx::query("SELECT rater, is_excluded, exclusion_reason FROM raters WHERE study = $1 AND token_hash = $2")
                .bind(study)
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| rater_row(study, &row)).transpose()
    }

    /// Insert or replace one answer; returns when it is committed.
    pub async fn upsert_answer(&self, study: &str, rater: &str, rating: &Rating, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO answers (study, rater, image, method, score, response_ms, answered_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (study, rater, image, method)
             DO UPDATE SET score = excluded.score, response_ms = excluded.response_ms, answered_ms = excluded.answered_ms",
        )
        .bind(study)
        .bind(rater)
        .bind(&rating.image)
        .bind(&rating.method)
        .bind(rating.score as i64)
        .bind(rating.ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every rater of `study` with their session (ratings sorted by image, method), sorted by
    /// rater id — the one order the live table, the exported files and `srkd dmos` share.
    pub async fn sessions(&self, study: &str) -> Result<Vec<(RaterRow, RaterSession)>> {
        let raters = sqlx::query("SELECT rater, is_excluded, exclusion_reason FROM raters WHERE study = $1")
            .bind(study)
            .fetch_all(&self.pool)
            .await?;
        let mut by_rater: BTreeMap<String, (RaterRow, Vec<Rating>)> = BTreeMap::new();
        for row in &raters {
            let rater = rater_row(study, row)?;
            by_rater.insert(rater.rater.clone(), (rater, Vec::new()));
        }
        let answers = sqlx::query("SELECT rater, image, method, score, response_ms FROM answers WHERE study = $1")
            .bind(study)
            .fetch_all(&self.pool)
            .await?;
        for row in &answers {
            let rater: String = row.try_get("rater")?;
            if let Some((_, ratings)) = by_rater.get_mut(&rater) {
                ratings.push(rating(row)?);
            }
        }
        Ok(by_rater
            .into_values()
            .map(|(row, mut ratings)| {
                ratings.sort_by(|a, b| (&a.image, &a.method).cmp(&(&b.image, &b.method)));
                let session = RaterSession { rater: row.rater.clone(), study: study.to_string(), ratings };
                (row, session)
            })
            .collect())
    }

    /// One rater's answers (sorted by image, method).
    pub async fn session_of(&self, study: &str, rater: &str) -> Result<RaterSession> {
        let rows = sqlx::query("SELECT image, method, score, response_ms FROM answers WHERE study = $1 AND rater = $2")
            .bind(study)
            .bind(rater)
            .fetch_all(&self.pool)
            .await?;
        let mut ratings = rows.iter().map(rating).collect::<Result<Vec<_>>>()?;
        ratings.sort_by(|a, b| (&a.image, &a.method).cmp(&(&b.image, &b.method)));
        Ok(RaterSession { rater: rater.to_string(), study: study.to_string(), ratings })
    }

    /// The study ids that have raters.
    pub async fn study_ids(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT study FROM raters").fetch_all(&self.pool).await?;
        let mut ids = rows.iter().map(|r| r.try_get("study")).collect::<Result<Vec<String>, _>>()?;
        ids.sort();
        Ok(ids)
    }

    /// Mark a rater excluded (`Some(reason)`) or included again; false if there is no such rater.
    pub async fn set_excluded(&self, study: &str, rater: &str, reason: Option<&str>) -> Result<bool> {
        let done =
            sqlx::query("UPDATE raters SET is_excluded = $1, exclusion_reason = $2 WHERE study = $3 AND rater = $4")
                .bind(reason.is_some() as i64)
                .bind(reason)
                .bind(study)
                .bind(rater)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn rating(row: &sqlx::any::AnyRow) -> Result<Rating> {
    let score: i64 = row.try_get("score")?;
    Ok(Rating {
        image: row.try_get("image")?,
        method: row.try_get("method")?,
        score: u8::try_from(score).context("score out of range in the database")?,
        ms: row.try_get("response_ms")?,
    })
}

fn rater_row(study: &str, row: &sqlx::any::AnyRow) -> Result<RaterRow> {
    let excluded: i64 = row.try_get("is_excluded")?;
    let reason: Option<String> = row.try_get("exclusion_reason")?;
    Ok(RaterRow {
        study: study.to_string(),
        rater: row.try_get("rater")?,
        excluded: (excluded != 0).then(|| reason.unwrap_or_else(|| "excluded by the experimenter".into())),
    })
}
