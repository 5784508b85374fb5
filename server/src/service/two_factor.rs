//! Two-factor authentication with TOTP (RFC 6238, `totp-rs`: 6 digits, 30-second steps, one step of
//! clock skew either way). The key is sealed like a stored file; it is in force only after a code
//! from it confirmed it. At sign-in, a right password for such an account signs nobody in: the
//! session (under a new id) waits five minutes for `second_factor`, whose success cycles the id again.
//! A code is accepted once (the newest accepted step is kept), a recovery code once; wrong codes count
//! toward the address's ban like wrong passwords, and are audited.

use app::{
    api::{RequestParts, TwoFactorApi},
    error::{AppError, ErrorCode},
    model::{
        parse, EnableTwoFactorInput, Me, RecoveryCodes, TwoFactorCodeInput, TwoFactorInfo, TwoFactorRequirementInput,
        TwoFactorSetup, UserId,
    },
};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::{Rng, RngCore};
use totp_rs::{Builder, Totp};

use super::{
    sign_in::{Proven, SecondFactorProof},
    Request, Service,
};
use crate::{
    db::{accounts, audit, two_factor},
    policy::Action,
};

/// The name authenticator apps show above the account.
const ISSUER: &str = "Moth";
const RECOVERY_CODES: usize = 10;
/// Letters and digits that cannot be mistaken for one another.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

fn totp(secret: Vec<u8>, account: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_secret(secret)
        .with_account_name(account.replace(':', " "))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| crate::error::internal("a TOTP key could not be used", e))
}

/// A recovery code, `xxxxx-xxxxx` (about 49 bits).
fn recovery_code() -> String {
    let mut rng = rand::thread_rng();
    let mut code: String =
        (0..10).map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())])).collect();
    code.insert(5, '-');
    code
}

fn recovery_hash(code: &str) -> String {
    crate::digest::sha256_hex(code.to_lowercase().as_bytes())
}

fn wrong_code() -> AppError {
    AppError::field("code", "This code is not right. Use the newest code your app shows, or a recovery code.")
}

impl Service {
    /// The user's key, opened, and whether it is in force.
    async fn user_key(&self, user: UserId) -> Result<Option<(Vec<u8>, bool)>, AppError> {
        let Some(stored) = two_factor::find(&self.db, user).await? else { return Ok(None) };
        let sealed = STANDARD
            .decode(&stored.secret)
            .map_err(|e| crate::error::internal("a stored two-factor secret is not base64", e))?;
        let secret = self
            .files
            .keys
            .open(&stored.key_id, &stored.wrapped_key, &sealed)
            .map_err(|e| crate::error::internal("a two-factor key does not open", e))?;
        Ok(Some((secret, stored.enabled_at.is_some())))
    }

    /// Whether `user` must give a second factor to sign in.
    pub(super) async fn has_two_factor(&self, user: UserId) -> Result<bool, AppError> {
        Ok(two_factor::find(&self.db, user).await?.is_some_and(|s| s.enabled_at.is_some()))
    }

    /// Checks a second factor of a user whose key is in force: a current code not used before, or an
    /// unused recovery code (then used up).
    async fn prove(&self, user: UserId, account: &str, code: &str) -> Result<Option<SecondFactorProof>, AppError> {
        let Some((secret, true)) = self.user_key(user).await? else { return Ok(None) };
        if code.contains('-') {
            let spent = two_factor::use_recovery_code(&self.db, user, &recovery_hash(code), self.now()).await?;
            return Ok(spent.then_some(SecondFactorProof::RecoveryCode));
        }
        let now = u64::try_from(self.now() / 1000).unwrap_or(0);
        let Some(step) = totp(secret, account)?.check(code, now) else { return Ok(None) };
        let fresh = two_factor::use_step(&self.db, user, i64::try_from(step).unwrap_or(i64::MAX)).await?;
        Ok(fresh.then_some(SecondFactorProof::Code))
    }

    /// A wrong second factor: counted toward the address's ban and audited.
    async fn second_factor_failed(&self, request: &Request, user: UserId, account: &str) -> Result<(), AppError> {
        self.bans.failed(&request.client(), "second_factor", account).await?;
        let record = audit::Record {
            event: audit::Event::TwoFactorFailed,
            success: false,
            team_id: None,
            actor_id: Some(user),
            detail: String::new(),
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
        Ok(())
    }

    /// Re-authentication before a change to how one signs in: the signed-in user's password again. A
    /// wrong one counts toward the address's ban and the account's ceiling like a failed sign-in.
    async fn reauthenticate(&self, request: &Request, user: UserId, password: &str) -> Result<(), AppError> {
        let account = self.email_of(user).await?;
        self.not_banned(request, Some(&account)).await?;
        let stored = accounts::find_credentials(&self.db, &account).await?.map(|c| c.password_hash);
        if !crate::password::verify(password.to_owned(), stored).await? {
            self.bans.failed(&request.client(), "reauthenticate", &account).await?;
            return Err(AppError::field("password", "This password is not right."));
        }
        Ok(())
    }

    async fn email_of(&self, user: UserId) -> Result<String, AppError> {
        Ok(accounts::find_user(&self.db, user).await?.ok_or_else(AppError::internal)?.email)
    }
}

#[async_trait::async_trait]
impl TwoFactorApi for Service {
    async fn two_factor_status(&self, req: &RequestParts) -> Result<TwoFactorInfo, AppError> {
        let (_, actor) = self.actor_setting_up(req).await?;
        Ok(TwoFactorInfo { enabled: self.has_two_factor(actor.user_id()).await? })
    }

    async fn start_two_factor(&self, req: &RequestParts) -> Result<TwoFactorSetup, AppError> {
        let (_, actor) = self.actor_setting_up(req).await?;
        let mut secret = vec![0_u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let sealed = self.files.keys.seal(&secret);
        let stored = STANDARD.encode(&sealed.bytes);
        if !two_factor::start(&self.db, actor.user_id(), &stored, &sealed.key_id, &sealed.wrapped_key).await? {
            return Err(AppError::new(ErrorCode::Conflict, "Two-factor authentication is on already."));
        }
        let totp = totp(secret, &self.email_of(actor.user_id()).await?)?;
        let uri = totp.to_url().map_err(|e| crate::error::internal("a TOTP key could not be written as a URI", e))?;
        let qr_svg = qrcode::QrCode::new(uri.as_bytes())
            .map_err(|e| crate::error::internal("a TOTP URI could not be drawn as a QR code", e))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build();
        Ok(TwoFactorSetup { secret: totp.secret().to_base32(), uri, qr_svg })
    }

    async fn enable_two_factor(
        &self,
        req: &RequestParts,
        input: EnableTwoFactorInput,
    ) -> Result<RecoveryCodes, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_setting_up(req).await?;
        self.reauthenticate(&request, actor.user_id(), &input.password).await?;
        let Some((secret, false)) = self.user_key(actor.user_id()).await? else {
            return Err(AppError::new(ErrorCode::Conflict, "Start setting up two-factor authentication first."));
        };
        let now = u64::try_from(self.now() / 1000).unwrap_or(0);
        let account = self.email_of(actor.user_id()).await?;
        let Some(step) = totp(secret, &account)?.check(&input.code, now) else { return Err(wrong_code()) };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        if !two_factor::enable(&self.db, actor.user_id(), step, &hashes, self.now()).await? {
            return Err(AppError::new(ErrorCode::Conflict, "Two-factor authentication is on already."));
        }
        // A code from the new key, with the password, was just proven in this session: it counts as
        // the second factor of its sign-in (an OWNER's break-glass, see `session::sso_admits`).
        self.sessions.second_factor_proven(request.session()?).await?;
        self.audit(&request, audit::Event::TwoFactorEnabled, Some(&actor), String::new()).await;
        Ok(RecoveryCodes { codes })
    }

    async fn disable_two_factor(&self, req: &RequestParts, input: TwoFactorCodeInput) -> Result<(), AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_setting_up(req).await?;
        let account = self.email_of(actor.user_id()).await?;
        self.not_banned(&request, Some(&account)).await?;
        if self.prove(actor.user_id(), &account, &input.code).await?.is_none() {
            self.second_factor_failed(&request, actor.user_id(), &account).await?;
            return Err(wrong_code());
        }
        // The OWNER of a team that requires single sign-on keeps it: it is the break-glass way in.
        let owned = crate::db::accounts::memberships(&self.db, actor.user_id()).await?;
        if owned.iter().any(|m| m.role == app::model::Role::Owner && m.requires_single_sign_on) {
            let message = "Your team requires single sign-on, and your two-factor authentication is its break-glass \
                           way in: stop requiring single sign-on first.";
            return Err(AppError::new(ErrorCode::Conflict, message));
        }
        two_factor::disable(&self.db, actor.user_id()).await?;
        self.audit(&request, audit::Event::TwoFactorDisabled, Some(&actor), String::new()).await;
        Ok(())
    }

    async fn second_factor(&self, req: &RequestParts, input: TwoFactorCodeInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let request = self.request(req)?;
        self.not_banned(&request, None).await?;
        let Some((user, team)) = self.sessions.pending(request.session()?).await? else {
            return Err(AppError::new(ErrorCode::Unauthenticated, "Sign in with your password first."));
        };
        let account = self.email_of(user).await?;
        // The account's ceiling too: guesses spread over many addresses still meet it.
        self.not_banned(&request, Some(&account)).await?;
        let Some(proof) = self.prove(user, &account, &input.code).await? else {
            self.second_factor_failed(&request, user, &account).await?;
            return Err(wrong_code());
        };
        let actor = self.sign_in_with(&request, Proven::SecondFactor(user, proof), team, "second_factor").await?;
        if proof == SecondFactorProof::RecoveryCode {
            self.audit_user(&request, audit::Event::RecoveryCodeUsed, user, actor.as_ref()).await;
        }
        match actor {
            Some(actor) => self.me(&actor).await,
            // Signed in, but not yet a member of the team whose invitation asked for the factor.
            None => {
                Err(AppError::new(ErrorCode::Conflict, "You are signed in. Accept your invitation to join its team."))
            }
        }
    }

    async fn set_two_factor_requirement(
        &self,
        req: &RequestParts,
        input: TwoFactorRequirementInput,
    ) -> Result<Me, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageMembers).await?;
        if input.required && !self.has_two_factor(actor.user_id()).await? {
            let message = "Turn on two-factor authentication for yourself before requiring it of everyone.";
            return Err(AppError::new(ErrorCode::Conflict, message));
        }
        accounts::set_two_factor_requirement(&self.db, actor.team_id(), input.required).await?;
        let detail = if input.required { "required" } else { "no longer required" };
        self.audit(&request, audit::Event::TwoFactorRequirementChanged, Some(&actor), detail.to_owned()).await;
        self.me(&actor).await
    }
}
