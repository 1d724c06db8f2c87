//! The Team page, invitations, roles and two-factor enforcement.

use outpost_store::{audit, sessions, team, users};
use reqwest::StatusCode;

use crate::helpers::{Browser, PASSWORD, TestApp, field_error, unescape};

const MASTER: &str = "master@example.com";
const MEMBER: &str = "member@example.com";

/// Invites `email` from the Team Master's browser; returns the link from the message.
async fn invite(app: &TestApp, master: &Browser, email: &str, require_two_factor: bool, mail_count: usize) -> String {
    let mut fields = vec![("email", email), ("name", "Mia Member")];
    if require_two_factor {
        fields.push(("require_two_factor", "yes"));
    }
    let page = master.submit("/team/invite", &fields).await;
    assert_eq!(page.location(), Some("/team?done=invited"), "{}", page.body);
    app.link_in_mail(mail_count, "/invitation?token=").await
}

async fn accept(app: &TestApp, link: &str) -> (Browser, crate::helpers::Page) {
    let browser = app.browser();
    let token = link.split("token=").nth(1).unwrap();
    let page = browser.submit("/invitation", &[("token", token), ("password", PASSWORD), ("password_confirmation", PASSWORD)]).await;
    (browser, page)
}

async fn member_id(app: &TestApp, username: &str) -> String {
    users::find_by_username(&app.state.database, username).await.unwrap().unwrap().id
}

#[tokio::test]
async fn invited_member_sets_password_and_signs_in() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let link = invite(&app, &master, MEMBER, false, 1).await;
    assert!(link.starts_with(&format!("{}/invitation?token=", app.address)));

    let form = app.browser().get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Mia Member"));
    let (member, page) = accept(&app, &link).await;

    assert_eq!(page.location(), Some("/"));
    assert_eq!(member.get("/security/password").await.status, StatusCode::OK);
    let team = master.get("/team").await;
    assert!(team.body.contains("<td>member@example.com</td>"));
    assert!(team.body.contains("<td>Team Member</td>"));
}

#[tokio::test]
async fn invitation_link_works_once() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let link = invite(&app, &master, MEMBER, false, 1).await;
    accept(&app, &link).await;

    let (_, second) = accept(&app, &link).await;

    assert_eq!(second.status, StatusCode::GONE);
    assert!(second.body.contains("does not work"));
}

#[tokio::test]
async fn invitation_expires_after_72_hours() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let link = invite(&app, &master, MEMBER, false, 1).await;

    app.clock.advance(72 * 3600);

    assert_eq!(app.browser().get(&link).await.status, StatusCode::GONE);
    assert_eq!(accept(&app, &link).await.1.status, StatusCode::GONE);
}

#[tokio::test]
async fn cancelled_invitation_is_refused() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let link = invite(&app, &master, MEMBER, false, 1).await;
    let account_id = users::find_by_username(&app.state.database, MASTER).await.unwrap().unwrap().account_id;
    let invitation = &team::pending_invitations(&app.state.database, &account_id).await.unwrap()[0];

    let cancelled = master.submit(&format!("/team/invitations/{}/cancel", invitation.id), &[]).await;

    assert_eq!(cancelled.location(), Some("/team?done=cancelled"));
    assert_eq!(accept(&app, &link).await.1.status, StatusCode::GONE);
}

#[tokio::test]
async fn resent_invitation_voids_old_link() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let old_link = invite(&app, &master, MEMBER, false, 1).await;
    let account_id = users::find_by_username(&app.state.database, MASTER).await.unwrap().unwrap().account_id;
    let invitation = &team::pending_invitations(&app.state.database, &account_id).await.unwrap()[0];

    master.submit(&format!("/team/invitations/{}/resend", invitation.id), &[]).await;
    let new_link = app.link_in_mail(2, "/invitation?token=").await;

    assert_ne!(old_link, new_link);
    assert_eq!(accept(&app, &old_link).await.1.status, StatusCode::GONE);
    assert_eq!(accept(&app, &new_link).await.1.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn invitation_of_removed_member_is_refused() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let link = invite(&app, &master, MEMBER, false, 1).await;
    accept(&app, &link).await;
    let id = member_id(&app, MEMBER).await;

    master.submit(&format!("/team/members/{id}/remove"), &[]).await;

    assert_eq!(accept(&app, &link).await.1.status, StatusCode::GONE);
}

#[tokio::test]
async fn address_with_account_elsewhere_gets_clear_message() {
    let app = TestApp::spawn().await;
    app.sign_up("taken@example.com").await;
    let master = app.sign_up(MASTER).await;

    let page = master.submit("/team/invite", &[("email", "Taken@Example.com"), ("name", "Tom")]).await;

    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(field_error(&page.body, "email").unwrap().contains("already has an Outpost account of its own"));
    assert!(page.body.contains("value=\"Taken@Example.com\""), "typed address kept");
}

#[tokio::test]
async fn invitation_form_rejects_bad_input() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;

    let page = master.submit("/team/invite", &[("email", "not-an-address"), ("name", "")]).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "email").unwrap().contains("invalid"));
    assert_eq!(field_error(&page.body, "name").unwrap(), "Name is required.");
}

#[tokio::test]
async fn second_pending_invitation_to_same_address_is_refused() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    invite(&app, &master, MEMBER, false, 1).await;

    let page = master.submit("/team/invite", &[("email", MEMBER), ("name", "Mia")]).await;

    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(field_error(&page.body, "email").unwrap().contains("already waiting"));
}

#[tokio::test]
async fn required_two_factor_forces_setup_after_joining() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let link = invite(&app, &master, MEMBER, true, 1).await;
    let (member, _) = accept(&app, &link).await;

    for path in ["/", "/security/password", "/security/username"] {
        let page = member.get(path).await;
        let location = page.location().map(str::to_owned);
        let followed = if path == "/" { member.get(location.as_deref().unwrap()).await } else { page };
        assert_eq!(followed.location(), Some("/security/two-factor"), "{path}");
    }
    let setup = member.get("/security/two-factor").await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.body.contains("Your Team Master requires two-factor authentication"));
    assert!(master.get("/team").await.body.contains("<td>Required, not set up</td>"));
}

#[tokio::test]
async fn requiring_two_factor_later_applies_at_next_request() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (member, _) = accept(&app, &invite(&app, &master, MEMBER, false, 1).await).await;
    assert_eq!(member.get("/security/password").await.status, StatusCode::OK);
    let id = member_id(&app, MEMBER).await;

    master.submit(&format!("/team/members/{id}/two-factor"), &[("required", "yes")]).await;

    assert_eq!(member.get("/security/password").await.location(), Some("/security/two-factor"));
}

#[tokio::test]
async fn team_wide_requirement_covers_master_and_later_members() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;

    let saved = master.submit("/team/two-factor", &[("required", "yes")]).await;

    assert_eq!(saved.location(), Some("/team?done=saved"));
    assert_eq!(master.get("/team").await.location(), Some("/security/two-factor"), "applies to the Team Master too");
    let account_id = users::find_by_username(&app.state.database, MASTER).await.unwrap().unwrap().account_id;
    assert!(team::account_requires_two_factor(&app.state.database, &account_id).await.unwrap());
}

#[tokio::test]
async fn member_is_refused_team_master_pages() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (member, _) = accept(&app, &invite(&app, &master, MEMBER, false, 1).await).await;
    let master_id = member_id(&app, MASTER).await;

    for path in ["/team", "/account", "/team/invite", "/team/members.csv"] {
        assert_eq!(member.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let reset = member.submit(&format!("/team/members/{master_id}/reset-two-factor"), &[("password", PASSWORD)]).await;
    assert_eq!(reset.status, StatusCode::FORBIDDEN);
    let nav = member.get("/security/password").await.body;
    assert!(!nav.contains("href=\"/team\""), "no Team link for members");
    assert!(!nav.contains("href=\"/account\""), "no Account Info link for members");
}

#[tokio::test]
async fn other_accounts_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    accept(&app, &invite(&app, &master, MEMBER, false, 1).await).await;
    let id = member_id(&app, MEMBER).await;
    let other = app.sign_up("other@example.com").await;

    assert_eq!(other.get(&format!("/team/members/{id}/remove")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.submit(&format!("/team/members/{id}/remove"), &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.submit(&format!("/team/members/{id}/two-factor"), &[("required", "yes")]).await.status, StatusCode::NOT_FOUND);
    assert!(users::find_by_id(&app.state.database, &id).await.unwrap().is_some(), "member still there");
}

#[tokio::test]
async fn team_master_cannot_remove_themself() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let id = member_id(&app, MASTER).await;

    let page = master.submit(&format!("/team/members/{id}/remove"), &[]).await;

    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(unescape(&page.body).contains("always keeps its Team Master"));
    assert_eq!(master.get("/team").await.status, StatusCode::OK);
}

#[tokio::test]
async fn removing_member_ends_sessions_keeps_audit() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (member, _) = accept(&app, &invite(&app, &master, MEMBER, false, 1).await).await;
    let id = member_id(&app, MEMBER).await;

    let removed = master.submit(&format!("/team/members/{id}/remove"), &[]).await;

    assert_eq!(removed.location(), Some("/team?done=removed"));
    assert_eq!(member.get("/security/password").await.location().map(|location| location.starts_with("/sign-in")), Some(true));
    assert_eq!(sessions::count_for_user(&app.state.database, &id).await.unwrap(), 0);
    let account_id = users::find_by_username(&app.state.database, MASTER).await.unwrap().unwrap().account_id;
    let entries = audit::list_for_account(&app.state.database, &account_id, 50).await.unwrap();
    assert!(entries.iter().any(|entry| entry.event == "invitation_accepted" && entry.user_id.as_deref() == Some(&id)));
    assert_eq!(entries[0].event, "member_removed");
}

#[tokio::test]
async fn csv_export_neutralises_formula_cells() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    master.submit("/team/invite", &[("email", MEMBER), ("name", "=HYPERLINK(\"x\")")]).await;
    let link = app.link_in_mail(1, "/invitation?token=").await;
    accept(&app, &link).await;

    let response = master.client.get(master.url("/team/members.csv")).send().await.unwrap();

    assert_eq!(response.headers().get("content-type").unwrap(), "text/csv; charset=utf-8");
    let body = response.text().await.unwrap();
    assert!(body.starts_with("username,name,role,two_factor,last_sign_in_utc\r\n"));
    assert!(body.contains("member@example.com,\"'=HYPERLINK(\"\"x\"\")\",Team Member,Not set up,"), "{body}");
}

#[tokio::test]
async fn team_filter_by_two_factor_status() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    accept(&app, &invite(&app, &master, MEMBER, true, 1).await).await;

    let required = master.get("/team?two_factor=required").await;
    let enabled = master.get("/team?two_factor=enabled").await;

    assert!(required.body.contains("<td>member@example.com</td>"));
    assert!(!required.body.contains("<td>master@example.com</td>"));
    assert!(!enabled.body.contains("<td>member@example.com</td>"));
}

#[tokio::test]
async fn member_reset_while_signed_in_is_sent_to_setup() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (member, _) = accept(&app, &invite(&app, &master, MEMBER, true, 1).await).await;
    crate::two_factor::enable(&app, &member, true).await;
    assert_eq!(member.get("/security/password").await.status, StatusCode::OK);
    assert!(master.get("/team").await.body.contains("<td>Enabled</td>"));
    let id = member_id(&app, MEMBER).await;

    let wrong = master.submit(&format!("/team/members/{id}/reset-two-factor"), &[("password", "not the password at all")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reset = master.submit(&format!("/team/members/{id}/reset-two-factor"), &[("password", PASSWORD)]).await;

    assert_eq!(reset.location(), Some("/team?done=reset"));
    assert_eq!(member.get("/security/password").await.location(), Some("/security/two-factor"));
    let user = users::find_by_id(&app.state.database, &id).await.unwrap().unwrap();
    assert!(outpost_store::two_factor::credential(&app.state.database, &user.id).await.unwrap().is_none());
    assert!(outpost_store::two_factor::trusted_devices(&app.state.database, &id, app.state.now()).await.unwrap().is_empty());
    let mail = app.wait_for_mail(3).await;
    assert!(mail.iter().any(|message| message.contains("Your Team Master reset your two-factor authentication")));
}

#[tokio::test]
async fn required_member_cannot_turn_two_factor_off() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (member, _) = accept(&app, &invite(&app, &master, MEMBER, true, 1).await).await;
    let enabled = crate::two_factor::enable(&app, &member, false).await;

    let page = member.submit("/security/two-factor/disable", &[("password", PASSWORD), ("code", &enabled.codes[0])]).await;

    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(member.get("/security/two-factor").await.body.contains("Your Team Master requires it"));
}

#[tokio::test]
async fn member_reset_wrong_passwords_are_throttled() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (member, _) = accept(&app, &invite(&app, &master, MEMBER, true, 1).await).await;
    crate::two_factor::enable(&app, &member, false).await;
    let path = format!("/team/members/{}/reset-two-factor", member_id(&app, MEMBER).await);

    for attempt in 0..5 {
        let page = master.submit(&path, &[("password", "not the password at all")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {attempt}");
    }
    let throttled = master.submit(&path, &[("password", PASSWORD)]).await;

    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers.get("retry-after").unwrap(), "30");
}
