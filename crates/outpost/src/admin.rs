//! Support operations from the server's command line. Each is recorded in the audit log
//! with the actor `support`.

use anyhow::{Context, bail};
use outpost_domain::collector;
use outpost_domain::email::{EmailAddress, normalize};
use outpost_store::collectors;
use outpost_store::audit::{self, Entry, Event};
use outpost_store::throttle::{self, Scope};
use outpost_store::two_factor;
use outpost_store::users::{self, UsernameChange};
use outpost_store::Database;

use outpost_server::mail::{Mailer, security_notice};

use crate::cli::{AdminCommand, MailArgs, StorageArgs};
use crate::serve::mail_config;

async fn open(storage: &StorageArgs) -> anyhow::Result<Database> {
    let database = Database::connect(&storage.database_url()).await.context("failed to open the database")?;
    database.migrate().await.context("failed to apply database migrations")?;
    Ok(database)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Unlock { username, storage } => unlock(&username, &storage).await,
        AdminCommand::ResetTwoFactor { username, storage, mail } => reset_two_factor(&username, &storage, &mail).await,
        AdminCommand::GrantPrepaid { collector_id, until, storage } => grant_prepaid(&collector_id, &until, &storage).await,
        AdminCommand::ChangeUsername { old, new, storage, mail } => change_username(&old, &new, &storage, &mail).await,
    }
}

/// Sends a security notice about a support action to each of `recipients`. The action is
/// already done, so a failed delivery is reported as a warning and the command still succeeds.
async fn notify(storage: &StorageArgs, mail: &MailArgs, recipients: &[&str], subject: &str, what_happened: &str) {
    let mailer = match mail_config(mail).and_then(|config| Mailer::new(&config, &storage.data_dir)) {
        Ok(mailer) => mailer,
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "failed to set up mail for a support notice");
            eprintln!("warning: no notice was sent, because the mail settings are invalid: {error:#}; check OUTPOST_MAIL_FROM and OUTPOST_SMTP_*, and tell the user yourself");
            return;
        }
    };
    for recipient in recipients {
        match mailer.send(recipient, subject, security_notice(recipient, what_happened)).await {
            Ok(()) => println!("Sent a notice to {recipient} ({}).", mailer.describe()),
            Err(error) => {
                tracing::warn!(recipient, error = format!("{error:#}"), "failed to send a support notice");
                eprintln!("warning: the notice to {recipient} was not sent: {error:#}; tell the user yourself");
            }
        }
    }
}

async fn unlock(username: &str, storage: &StorageArgs) -> anyhow::Result<()> {
    let database = open(storage).await?;
    let key = normalize(username);
    let Some(user) = users::find_by_username(&database, &key).await? else {
        bail!("no user has the username {username:?}");
    };

    let had_failures = throttle::reset(&database, Scope::Username, &key).await?;
    let entry = Entry {
        actor: "support",
        user_id: Some(&user.id),
        account_id: Some(&user.account_id),
        client_address: None,
        detail: if had_failures { "failed sign-in count cleared" } else { "no failed sign-ins were recorded" },
    };
    audit::record(&database, Event::AccountUnlocked, entry, now()).await?;
    tracing::info!(user.id = %user.id, "support unlocked an account");

    if had_failures {
        println!("Unlocked {}: failed sign-ins cleared.", user.username);
    } else {
        println!("{} was not locked and had no failed sign-ins; nothing changed.", user.username);
    }
    database.close().await;
    Ok(())
}

async fn reset_two_factor(username: &str, storage: &StorageArgs, mail: &MailArgs) -> anyhow::Result<()> {
    let database = open(storage).await?;
    let Some(user) = users::find_by_username(&database, &normalize(username)).await? else {
        bail!("no user has the username {username:?}");
    };

    let was_enabled = two_factor::disable(&database, &user.id).await?;
    let ended = outpost_store::sessions::delete_for_user(&database, &user.id).await?;
    let detail = format!("two-factor was {}; {ended} session(s) ended", if was_enabled { "on" } else { "off" });
    let entry = Entry {
        actor: "support",
        user_id: Some(&user.id),
        account_id: Some(&user.account_id),
        client_address: None,
        detail: &detail,
    };
    audit::record(&database, Event::TwoFactorReset, entry, now()).await?;
    tracing::info!(user.id = %user.id, "support reset two-factor authentication");

    if was_enabled {
        println!("Reset two-factor authentication of {}: key, recovery codes and trusted devices removed, {ended} session(s) ended.", user.username);
        println!("The user signs in with the password alone and can set up two-factor again on the Two-factor page.");
        let what_happened = "Support turned off two-factor authentication for your account. Your authenticator key, \
                             recovery codes and trusted browsers no longer work, and your open sessions have ended. \
                             Sign in with your password and set up two-factor again on the Two-factor page.";
        notify(storage, mail, &[&user.username], "Two-factor authentication was turned off", what_happened).await;
    } else {
        println!("{} had no two-factor authentication; trusted devices cleared, {ended} session(s) ended.", user.username);
    }
    database.close().await;
    Ok(())
}

async fn grant_prepaid(collector_id: &str, until: &str, storage: &StorageArgs) -> anyhow::Result<()> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let last_day = time::Date::parse(until.trim(), &format)
        .map_err(|_| anyhow::anyhow!("--until {until:?} is not a date in the form YYYY-MM-DD, for example 2027-12-31"))?;
    let today = collector::utc_date(now());
    let latest = collector::max_prepaid_until(today);
    if last_day < today {
        bail!("--until {until} is in the past; give today ({today}) or a later day");
    }
    if last_day > latest {
        bail!("--until {until} is more than five years ahead; the latest allowed day is {latest}");
    }

    let database = open(storage).await?;
    let detail = format!("prepaid through {last_day} (UTC)");
    let Some(updated) = collectors::grant_prepaid(&database, collector_id.trim(), collector::prepaid_end(last_day), &detail, now()).await? else {
        bail!("no collector has the id {collector_id:?}; copy it from the collector's page in the portal");
    };
    tracing::info!(collector.id = %updated.id, account.id = %updated.account_id, "support granted prepaid time");
    println!("{} is prepaid through {last_day} (UTC); its status is {}.", updated.name, updated.activation_status);
    database.close().await;
    Ok(())
}

async fn change_username(old: &str, new: &str, storage: &StorageArgs, mail: &MailArgs) -> anyhow::Result<()> {
    let new_email = EmailAddress::parse(new).map_err(|error| anyhow::anyhow!("new username {new:?}: {error}"))?;
    let database = open(storage).await?;

    match users::change_username(&database, &normalize(old), new_email.as_str(), new_email.normalized()).await? {
        UsernameChange::UnknownUser => bail!("no user has the username {old:?}"),
        UsernameChange::Taken => bail!("the username {new:?} already belongs to another user; nothing changed"),
        UsernameChange::Changed { user_id, account_id, old_username } => {
            let detail = format!("from {old_username} to {}", new_email.as_str());
            let entry = Entry {
                actor: "support",
                user_id: Some(&user_id),
                account_id: Some(&account_id),
                client_address: None,
                detail: &detail,
            };
            audit::record(&database, Event::UsernameChanged, entry, now()).await?;
            tracing::info!(user.id = %user_id, "support changed a username");
            println!("Changed username {old_username} to {}; the user's sessions have ended.", new_email.as_str());
            let what_happened = format!(
                "Support changed the username of your account from {old_username} to {}. Sign in with the new username \
                 from now on; your open sessions have ended.",
                new_email.as_str()
            );
            let recipients = [old_username.as_str(), new_email.as_str()];
            notify(storage, mail, &recipients, "Your Outpost username was changed", &what_happened).await;
        }
    }
    database.close().await;
    Ok(())
}
