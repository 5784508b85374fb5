//! Attachments on an issue's page: the list (with thumbnails of images), "Attach files" (a file
//! picker, dropping files onto the attachments, or pasting a screenshot anywhere on the page), each
//! upload with its progress and outcome, and "Remove attachment"; the files of a comment, which its
//! author attaches with "Attach files to comment"; and the admins' Quarantine page. Uploads go over
//! `XMLHttpRequest` to `POST /upload/issues/<id>` or `/upload/comments/<id>`, which report upload
//! progress; the browser refuses a file of a type or size the server would refuse before sending a byte.

use leptos::prelude::*;

use super::{confirm::ConfirmButton, form::Submission, layout::SignedIn, set_ready, time};
use crate::{
    api::{attachment_link, delete_attachment, list_attachments, quarantine},
    error::AppError,
    model::{refuse_before_upload, Attachment, AttachmentIdInput, Comment, IssueId, IssueIdInput, UserId, FILE_TYPES},
};

/// Where one upload stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "csr"), allow(dead_code))] // only the browser uploads
enum UploadState {
    /// Sending, with the percentage sent.
    Sending(u32),
    /// Sent whole; the server is checking and scanning it.
    Scanning,
    Clean,
    Rejected(String),
}

impl UploadState {
    fn label(&self) -> String {
        match self {
            UploadState::Sending(percent) => format!("uploading {percent}%"),
            UploadState::Scanning => "scanning".into(),
            UploadState::Clean => "clean".into(),
            UploadState::Rejected(reason) => format!("rejected: {reason}"),
        }
    }
}

#[derive(Clone)]
struct Upload {
    name: String,
    state: RwSignal<UploadState>,
}

/// Starts uploads to `path`, one per file, each with its own state in `uploads`; `on_clean` runs
/// after each stored file. Files the server would refuse are refused here, before a byte is sent.
fn uploader(
    path: String,
    uploads: RwSignal<Vec<Upload>>,
    on_clean: impl Fn() + Clone + 'static,
) -> impl Fn(Vec<BrowserFile>) + Clone + 'static {
    let named = named_uploader(path, uploads, on_clean);
    move |files: Vec<BrowserFile>| named(files.into_iter().map(|f| (file_name(&f), f)).collect())
}

/// [`uploader`] for files sent under a name of Moth's choosing (a pasted screenshot's).
fn named_uploader(
    path: String,
    uploads: RwSignal<Vec<Upload>>,
    on_clean: impl Fn() + Clone + 'static,
) -> impl Fn(Vec<(String, BrowserFile)>) + Clone + 'static {
    move |files: Vec<(String, BrowserFile)>| {
        for (name, file) in files {
            let state = RwSignal::new(UploadState::Sending(0));
            uploads.update(|u| u.push(Upload { name: name.clone(), state }));
            match refuse_before_upload(&name, file_size(&file)) {
                Some(reason) => state.set(UploadState::Rejected(reason)),
                None => send(path.clone(), &name, file, state, on_clean.clone()),
            }
        }
    }
}

/// The comment being written on an issue's page: its text, and the files pasted or dropped while it
/// is written, held (named, removable) until it is posted and then sent to that comment, where they
/// show with its files; they never go to the issue. With it, the comments being edited, by comment,
/// with their text as it stands. The page keeps it outside the part it draws again after a change,
/// so that neither text nor uploads are lost to a redraw.
#[derive(Clone, Copy)]
pub struct CommentDraft {
    pub text: RwSignal<String>,
    files: RwSignal<Vec<(String, BrowserFile)>, LocalStorage>,
    uploads: RwSignal<Vec<Upload>>,
    pub edits: RwSignal<std::collections::HashMap<crate::model::CommentId, String>>,
}

impl CommentDraft {
    pub fn new() -> Self {
        Self {
            text: RwSignal::new(String::new()),
            files: RwSignal::new_local(Vec::new()),
            uploads: RwSignal::new(Vec::new()),
            edits: RwSignal::new(std::collections::HashMap::new()),
        }
    }

    /// Starts afresh: the page now shows another issue.
    pub fn clear(self) {
        self.text.set(String::new());
        self.files.set(Vec::new());
        self.edits.set(std::collections::HashMap::new());
    }

    /// Keeps `files` for the comment.
    fn keep(self, files: Vec<BrowserFile>) {
        let held = self.files.with_untracked(Vec::len);
        self.files.update(|f| f.extend(pasted_names(files, held)));
    }

    /// The writing area's `paste` and `drop`: files are kept for the comment, not attached to the issue
    /// (the event stops here, before the page's own paste handler); text is left to the browser.
    pub fn on_paste(self, ev: &leptos::ev::ClipboardEvent) {
        self.take(ev, pasted_files(ev));
    }

    pub fn on_drop(self, ev: &leptos::ev::DragEvent) {
        self.take(ev, dropped_files(ev));
    }

    fn take(self, ev: &leptos::web_sys::Event, files: Vec<BrowserFile>) {
        if !files.is_empty() {
            ev.prevent_default();
            ev.stop_propagation();
            self.keep(files);
        }
    }

    /// Sends the kept files to the posted comment; `on_clean` runs after each stored file.
    pub fn send_to(self, comment: crate::model::CommentId, on_clean: impl Fn() + Clone + 'static) {
        let files = self.files.try_update(std::mem::take).unwrap_or_default();
        named_uploader(format!("/upload/comments/{comment}"), self.uploads, on_clean)(files);
    }
}

/// The files kept for the comment being written, each removable, and then their uploads.
#[component]
pub fn DraftFileList(draft: CommentDraft) -> impl IntoView {
    let names = move || draft.files.with(|f| f.iter().map(|held| held.0.clone()).collect::<Vec<_>>());
    view! {
        <ul class="attachment-list" aria-label="Files for the comment">
            {move || names().into_iter().enumerate().map(|(n, name)| view! {
                <li class="attachment">{name.clone()}" "
                    <button type="button" class="small" aria-label=format!("Remove {name}")
                        on:click=move |_| draft.files.update(|f| { f.remove(n); })>"Remove"</button>
                </li>
            }).collect_view()}
        </ul>
        <p class="sr-only" role="status">{move || match names().len() {
            0 => String::new(),
            1 => "1 file will be attached to the comment.".to_owned(),
            n => format!("{n} files will be attached to the comment."),
        }}</p>
        <UploadList uploads=draft.uploads />
    }
}

/// The uploads started here, each with its progress and its outcome.
#[component]
fn UploadList(uploads: RwSignal<Vec<Upload>>) -> impl IntoView {
    view! {
        <ul class="uploads" aria-label="Uploads">
            {move || uploads.get().into_iter().map(|u| view! {
                <li class="upload">
                    <span class="upload-name">{u.name.clone()}</span>" "
                    <progress max="100" value=move || match u.state.get() {
                        UploadState::Sending(p) => p,
                        _ => 100,
                    }></progress>" "
                    <span class="upload-state" data-testid="upload-state">{move || u.state.get().label()}</span>
                </li>
            }).collect_view()}
        </ul>
        // Screen readers hear each upload's outcome (not every percent sent).
        <p class="sr-only" role="status">{move || uploads.get().into_iter().rev().find_map(|u| match u.state.get() {
            UploadState::Sending(_) => None,
            state => Some(format!("{}: {}", u.name, state.label())),
        })}</p>
    }
}

/// The attachments of an issue, and attaching more.
#[component]
pub fn Attachments(issue_id: IssueId, me_id: UserId, is_admin: bool) -> impl IntoView {
    let version = RwSignal::new(0_u32);
    let list = LocalResource::new(move || {
        version.track();
        list_attachments(IssueIdInput { issue_id })
    });
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let removed = RwSignal::new(None::<AppError>);
    let remove = Submission::reporting_to(removed, delete_attachment, move |()| version.update(|v| *v += 1));
    let attach_named =
        named_uploader(format!("/upload/issues/{issue_id}"), uploads, move || version.update(|v| *v += 1));
    listen_for_pasted_files(attach_named.clone());
    let attach = move |files: Vec<BrowserFile>| attach_named(files.into_iter().map(|f| (file_name(&f), f)).collect());
    let on_drop = attach.clone();
    let allowed = FILE_TYPES.iter().map(|t| t.extension).collect::<Vec<_>>().join(", ");
    view! {
        <section class="card attachments" data-testid="attachments"
            on:dragover=|ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                on_drop(dropped_files(&ev));
            }>
            <h2>"Attachments"</h2>
            <ul class="attachment-list">
                {move || list.get().map(|r| match r {
                    Ok(items) if items.is_empty() => view! { <li class="muted">"No files yet."</li> }.into_any(),
                    Ok(items) => items.into_iter().map(|a| {
                        let can_remove = is_admin || a.uploader_id == me_id;
                        view! { <AttachmentItem attachment=a can_remove remove /> }
                    }).collect_view().into_any(),
                    Err(e) => view! { <li class="alert" role="alert">{e.message}</li> }.into_any(),
                })}
            </ul>
            <div class="alert" role="alert">{move || removed.get().map(|e| e.message)}</div>
            <UploadList uploads />
            <label class="button-like" for="attach-files">"Attach files"</label>
            <input id="attach-files" class="file-input" type="file" multiple=true
                on:change=move |ev| attach(picked_files(&ev)) />
            <p class="hint">{format!("Drop files here, or paste a screenshot. Allowed: {allowed}.")}</p>
        </section>
    }
}

/// The files of a comment; its author attaches more. `on_changed` reloads the issue (and with it the
/// comment's files) after a file is stored or removed.
#[component]
pub fn CommentFiles(
    comment: Comment,
    me_id: UserId,
    is_admin: bool,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
    errors: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let own = comment.author.id == me_id;
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let remove = Submission::reporting_to(errors, delete_attachment, move |()| on_changed());
    let attach = uploader(format!("/upload/comments/{}", comment.id), uploads, on_changed);
    let input_id = format!("attach-to-{}", comment.id);
    view! {
        <ul class="attachment-list" aria-label="Files of the comment">
            {comment.attachments.into_iter().map(|a| {
                let can_remove = is_admin || a.uploader_id == me_id;
                view! { <AttachmentItem attachment=a can_remove remove /> }
            }).collect_view()}
        </ul>
        <Show when=move || own>
            <UploadList uploads />
            <label class="button-like small" for=input_id.clone()>"Attach files to comment"</label>
            <input id=input_id.clone() class="file-input" type="file" multiple=true
                on:change={
                    let attach = attach.clone();
                    move |ev| attach(picked_files(&ev))
                } />
        </Show>
    }
}

/// One attachment: a link to it on the file origin (made by the server with the list, or asked for
/// when the list came without one), a thumbnail for images, and "Remove attachment" for its uploader
/// and admins.
#[component]
fn AttachmentItem(
    attachment: Attachment,
    can_remove: bool,
    remove: Submission<AttachmentIdInput, ()>,
) -> impl IntoView {
    let attachment_id = attachment.id;
    let listed = attachment.link.clone();
    let link = LocalResource::new(move || {
        let listed = listed.clone();
        async move {
            match listed {
                Some(link) => Ok(link),
                None => attachment_link(AttachmentIdInput { attachment_id }).await,
            }
        }
    });
    let image = attachment.content_type.starts_with("image/");
    let name = attachment.name.clone();
    let label = format!("Remove attachment {}", attachment.name);
    let question = format!("Remove {} for everyone? This cannot be undone.", attachment.name);
    let size = size_text(attachment.size);
    view! {
        <li class="attachment">
            {move || link.get().and_then(Result::ok).map(|l| {
                let name = name.clone();
                view! {
                    {image.then(|| view! { <img class="thumb" src=l.url.clone() alt=format!("Preview of {name}") /> })}
                    <a href=l.url target="_blank" rel="noopener noreferrer">{name.clone()}</a>
                }
            })}
            " · "{size}" · "{attachment.uploaded_by}" · "<time::Moment ms=attachment.created_at />
            <Show when=move || can_remove>
                " "
                <ConfirmButton label="Remove attachment" name=label.clone() question=question.clone()
                    confirm="Remove file" on_confirm=move || remove.submit(AttachmentIdInput { attachment_id }) />
            </Show>
        </li>
    }
}

#[component]
pub fn QuarantinePage() -> impl IntoView {
    view! { <SignedIn page=|_| view! { <Quarantine /> } /> }
}

/// The team's refused uploads (OWNER and ADMIN): metadata only, the bytes were never kept.
#[component]
fn Quarantine() -> impl IntoView {
    let entries = LocalResource::new(quarantine);
    Effect::new(move || set_ready(entries.get().is_some()));
    view! {
        <section class="card">
            <h1>"Quarantine"</h1>
            <p class="muted">"Uploads that were refused. Their contents were never stored."</p>
            <table class="list">
                <thead>
                    <tr><th>"Time (UTC)"</th><th>"Uploader"</th><th>"Name"</th><th>"Size"</th><th>"Step"</th><th>"Reason"</th><th>"Signature"</th></tr>
                </thead>
                <tbody>
                    {move || entries.get().map(|r| match r {
                        Ok(list) if list.is_empty() => view! { <tr><td colspan="7" class="muted">"Nothing was refused."</td></tr> }.into_any(),
                        Ok(list) => list.into_iter().map(|e| view! {
                            <tr>
                                <td>{time::date_time(e.at)}</td>
                                <td>{e.uploader.unwrap_or_default()}</td>
                                <td>{e.name}</td>
                                <td>{size_text(e.size)}</td>
                                <td>{e.step}</td>
                                <td>{e.reason}</td>
                                <td>{e.signature.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view().into_any(),
                        Err(e) => view! { <tr><td colspan="7" class="alert" role="alert">{e.message}</td></tr> }.into_any(),
                    })}
                </tbody>
            </table>
        </section>
    }
}

/// A file's size as people read it: "812 bytes", "4.2 KB", "18.5 MB" (1 KB = 1,024 bytes).
fn size_text(bytes: i64) -> String {
    const UNITS: [&str; 3] = ["KB", "MB", "GB"];
    if bytes < 1024 {
        return if bytes == 1 { "1 byte".to_owned() } else { format!("{bytes} bytes") };
    }
    // Whole tenths, rounded, in integers: formatting a float would add ~10 KB of wasm.
    let mut unit = 0;
    let mut scale: i64 = 1024;
    while bytes >= scale * 1024 && unit < UNITS.len() - 1 {
        scale *= 1024;
        unit += 1;
    }
    let tenths = (i128::from(bytes) * 10 + i128::from(scale) / 2) / i128::from(scale);
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_carry_their_unit() {
        assert_eq!(super::size_text(0), "0 bytes");
        assert_eq!(super::size_text(1), "1 byte");
        assert_eq!(super::size_text(1023), "1023 bytes");
        assert_eq!(super::size_text(1024), "1.0 KB");
        assert_eq!(super::size_text(1536 + 50), "1.5 KB");
        assert_eq!(super::size_text(4300), "4.2 KB");
        assert_eq!(super::size_text(1024 * 1024 - 1), "1024.0 KB");
        assert_eq!(super::size_text(20 * 1024 * 1024), "20.0 MB");
        assert_eq!(super::size_text(3 * 1024 * 1024 * 1024 + 512 * 1024 * 1024), "3.5 GB");
    }
}

// ---- the browser's side: files, events and XMLHttpRequest ----

#[cfg(feature = "csr")]
type BrowserFile = web_sys::File;
#[cfg(not(feature = "csr"))]
type BrowserFile = ();

#[cfg(feature = "csr")]
fn file_name(file: &BrowserFile) -> String {
    file.name()
}

#[cfg(feature = "csr")]
fn file_size(file: &BrowserFile) -> u64 {
    // A file's size in bytes is a whole number well within f64's exact range.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = file.size() as u64;
    size
}

#[cfg(feature = "csr")]
fn files_of(list: Option<web_sys::FileList>) -> Vec<BrowserFile> {
    list.map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect()).unwrap_or_default()
}

#[cfg(feature = "csr")]
fn dropped_files(ev: &web_sys::DragEvent) -> Vec<BrowserFile> {
    files_of(ev.data_transfer().and_then(|d| d.files()))
}

#[cfg(feature = "csr")]
fn picked_files(ev: &web_sys::Event) -> Vec<BrowserFile> {
    use wasm_bindgen::JsCast;
    let input = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
    let files = files_of(input.as_ref().and_then(web_sys::HtmlInputElement::files));
    // The same file can be picked again.
    if let Some(input) = input {
        input.set_value("");
    }
    files
}

#[cfg(feature = "csr")]
fn pasted_files(ev: &web_sys::ClipboardEvent) -> Vec<BrowserFile> {
    files_of(ev.clipboard_data().and_then(|d| d.files()))
}

/// Names for pasted or dropped files: a clipboard's screenshot (always `image.png`) gets one of its own,
/// from the moment it was pasted; `held` files came before these.
fn pasted_names(files: Vec<BrowserFile>, held: usize) -> Vec<(String, BrowserFile)> {
    files
        .into_iter()
        .enumerate()
        .map(|(n, file)| match file_name(&file) {
            name if name.is_empty() || name == "image.png" => (draft_name(held + n), file),
            name => (name, file),
        })
        .collect()
}

/// `screenshot-2026-12-05-231502.png` (local time), `-2`, `-3`… for more at once.
#[cfg(feature = "csr")]
fn draft_name(held: usize) -> String {
    let now = js_sys::Date::new_0();
    let stamp = format!(
        "{}-{:02}-{:02}-{:02}{:02}{:02}",
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date(),
        now.get_hours(),
        now.get_minutes(),
        now.get_seconds()
    );
    if held == 0 {
        format!("screenshot-{stamp}.png")
    } else {
        format!("screenshot-{stamp}-{}.png", held + 1)
    }
}

/// Files pasted anywhere on the page (a screenshot from the clipboard) are attached too.
#[cfg(feature = "csr")]
fn listen_for_pasted_files(attach: impl Fn(Vec<(String, BrowserFile)>) + Clone + 'static) {
    let handle = window_event_listener(leptos::ev::paste, move |ev| {
        let files = pasted_files(&ev);
        if !files.is_empty() {
            ev.prevent_default();
            attach(pasted_names(files, 0));
        }
    });
    on_cleanup(move || handle.remove());
}

/// Sends one file, reporting progress, then the server's verdict, in `state`.
#[cfg(feature = "csr")]
fn send(path: String, name: &str, file: BrowserFile, state: RwSignal<UploadState>, on_clean: impl Fn() + 'static) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let fail = move |reason: &str| state.set(UploadState::Rejected(reason.to_owned()));
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else { return fail("This browser cannot upload files.") };
    let url = format!("{path}?name={}", super::address::encode(name));
    if xhr.open("POST", &url).is_err() {
        return fail("The upload could not start.");
    }
    if let Ok(upload) = xhr.upload() {
        let progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let percent = (ev.loaded() / ev.total() * 100.0).clamp(0.0, 100.0) as u32;
                state.set(if percent >= 100 { UploadState::Scanning } else { UploadState::Sending(percent) });
            }
        });
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        // Lives as long as the request; one small closure per upload.
        progress.forget();
    }
    let answered = xhr.clone();
    let onload = Closure::once_into_js(move || {
        let text = answered.response_text().ok().flatten().unwrap_or_default();
        if answered.status().unwrap_or(0) == 200 {
            state.set(UploadState::Clean);
            on_clean();
        } else {
            let reason = serde_json::from_str::<AppError>(&text).map_or_else(
                |_| "The upload failed.".to_owned(),
                |e| e.field_message("file").map_or(e.message.clone(), str::to_owned),
            );
            state.set(UploadState::Rejected(reason));
        }
    });
    xhr.set_onload(Some(onload.unchecked_ref()));
    let onerror =
        Closure::once_into_js(move || state.set(UploadState::Rejected("The server could not be reached.".into())));
    xhr.set_onerror(Some(onerror.unchecked_ref()));
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        fail("The upload could not start.");
    }
}

// The server renders nothing of this module; these keep its signatures whole there.
#[cfg(not(feature = "csr"))]
#[allow(clippy::trivially_copy_pass_by_ref)]
fn file_name((): &BrowserFile) -> String {
    String::new()
}
#[cfg(not(feature = "csr"))]
#[allow(clippy::trivially_copy_pass_by_ref)]
fn file_size((): &BrowserFile) -> u64 {
    0
}
#[cfg(not(feature = "csr"))]
fn dropped_files<E>(_: &E) -> Vec<BrowserFile> {
    Vec::new()
}
#[cfg(not(feature = "csr"))]
fn picked_files<E>(_: &E) -> Vec<BrowserFile> {
    Vec::new()
}
#[cfg(not(feature = "csr"))]
fn listen_for_pasted_files(_: impl Fn(Vec<(String, BrowserFile)>) + Clone + 'static) {}
#[cfg(not(feature = "csr"))]
fn send(_: String, _: &str, (): BrowserFile, _: RwSignal<UploadState>, _: impl Fn() + 'static) {}
#[cfg(not(feature = "csr"))]
fn pasted_files<E>(_: &E) -> Vec<BrowserFile> {
    Vec::new()
}
#[cfg(not(feature = "csr"))]
fn draft_name(_: usize) -> String {
    String::new()
}
