//! The SQL of [`Users`](twofold_core::store::Users).

/// Implements [`Users`](twofold_core::store::Users) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_users {
    (store = $store:ident $(,)?) => {
        mod users {
            use twofold_core::factor::Factor;
            use twofold_core::identity::Role;
            use twofold_core::store::{NewUser, StoreResult, User, UserPatch, UserQuery};
            use $crate::rows::{
                backend, conflict, contains_pattern, convert_all, limit, user_columns,
                user_with_factors, users_with_factors, UserFactorRow, UserRow, USER_WITH_FACTORS,
            };

            #[async_trait::async_trait]
            impl twofold_core::store::Users for super::$store {
                async fn insert_user(&self, user: &NewUser) -> StoreResult<User> {
                    let _serial = self.serialize_writes().await;
                    let row: UserRow = sqlx::query_as(concat!(
                        "INSERT INTO users (username, username_key, role, email, phone, \
                         password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
                        user_columns!()
                    ))
                    .bind(user.username.as_str())
                    .bind(user.username.key())
                    .bind(user.role.as_str())
                    .bind(&user.email)
                    .bind(&user.phone)
                    .bind(&user.password_hash)
                    .bind(user.created_at)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(conflict("user"))?;
                    row.try_into()
                }

                async fn user_by_name(&self, key: &str) -> StoreResult<Option<User>> {
                    let row: Option<UserRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        user_columns!(),
                        " FROM users WHERE username_key = $1"
                    ))
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(User::try_from).transpose()
                }

                async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
                    let row: Option<UserRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        user_columns!(),
                        " FROM users WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(User::try_from).transpose()
                }

                async fn user_with_factors(
                    &self,
                    key: &str,
                ) -> StoreResult<Option<(User, Vec<Factor>)>> {
                    if let Some(hot) = self.hot() {
                        return hot.user_with_factors(key);
                    }
                    let rows: Vec<UserFactorRow> = sqlx::query_as(USER_WITH_FACTORS)
                        .bind(key)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    user_with_factors(rows)
                }

                async fn users_with_factors(
                    &self,
                    keys: &[String],
                ) -> StoreResult<Vec<(User, Vec<Factor>)>> {
                    // USER_WITH_FACTORS's SELECT, for many keys at once.
                    let select = USER_WITH_FACTORS
                        .split(" WHERE ")
                        .next()
                        .unwrap_or(USER_WITH_FACTORS);
                    let mut out = Vec::with_capacity(keys.len());
                    for chunk in keys.chunks(1000) {
                        let mut qb = sqlx::QueryBuilder::new(select);
                        qb.push(" WHERE u.username_key IN (");
                        let mut list = qb.separated(", ");
                        for key in chunk {
                            list.push_bind(key.as_str());
                        }
                        qb.push(") ORDER BY u.id, f.created_at, f.seq");
                        let rows: Vec<UserFactorRow> = qb
                            .build_query_as()
                            .fetch_all(&self.pool)
                            .await
                            .map_err(backend)?;
                        out.extend(users_with_factors(rows)?);
                    }
                    Ok(out)
                }

                async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>> {
                    let pattern = query.search.as_deref().map(contains_pattern);
                    let rows: Vec<UserRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        user_columns!(),
                        " FROM users WHERE $1 IS NULL \
                         OR username_key LIKE $1 ESCAPE '\\' OR lower(email) LIKE $1 ESCAPE '\\' \
                         ORDER BY username_key LIMIT $2 OFFSET $3"
                    ))
                    .bind(pattern)
                    .bind(limit(query.limit))
                    .bind(i64::from(query.offset))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    convert_all(rows)
                }

                async fn count_users(&self, role: Option<Role>) -> StoreResult<i64> {
                    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE $1 IS NULL OR role = $1")
                        .bind(role.map(Role::as_str))
                        .fetch_one(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn update_user(
                    &self,
                    id: i64,
                    patch: &UserPatch,
                ) -> StoreResult<Option<User>> {
                    let _serial = self.serialize_writes().await;
                    let row: Option<UserRow> = sqlx::query_as(concat!(
                        "UPDATE users SET \
                         email = CASE WHEN $2 THEN $3 ELSE email END, \
                         phone = CASE WHEN $4 THEN $5 ELSE phone END, \
                         role = COALESCE($6, role), \
                         disabled = COALESCE($7, disabled), \
                         language = CASE WHEN $8 THEN $9 ELSE language END \
                         WHERE id = $1 RETURNING ",
                        user_columns!()
                    ))
                    .bind(id)
                    .bind(patch.email.is_some())
                    .bind(patch.email.clone().flatten())
                    .bind(patch.phone.is_some())
                    .bind(patch.phone.clone().flatten())
                    .bind(patch.role.map(Role::as_str))
                    .bind(patch.disabled)
                    .bind(patch.language.is_some())
                    .bind(patch.language.clone().flatten())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(User::try_from).transpose()
                }

                async fn set_password(&self, id: i64, hash: &str) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                        .bind(id)
                        .bind(hash)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() > 0)
                }
            }
        }
    };
}
pub(crate) use impl_users;
