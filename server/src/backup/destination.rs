//! Where snapshots go: a folder, and any number of S3-compatible buckets (a second provider).
//! Each snapshot is one object (`moth-....tar.age`, already encrypted) and a small sidecar
//! (`.sha256`) that lets anyone check it arrived whole without the key.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use super::BackupError;
use crate::files::store::S3Settings;

pub const SUFFIX: &str = ".tar.age";
pub const SIDECAR: &str = ".sha256";

pub enum Destination {
    Folder(PathBuf),
    S3 { client: aws_sdk_s3::Client, bucket: String, prefix: String },
}

fn s3_error(e: impl std::fmt::Display) -> BackupError {
    BackupError::Destination(format!("S3: {e}"))
}

impl Destination {
    pub fn s3(settings: &S3Settings, prefix: &str) -> Self {
        Destination::S3 {
            client: crate::files::store::s3_client(settings),
            bucket: settings.bucket.clone(),
            prefix: prefix.to_owned(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Destination::Folder(dir) => dir.display().to_string(),
            Destination::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// Stores the local file `source` under `name`, which may hold `/` (the continuous replica's
    /// files), whole or not at all: a folder write goes to a temporary name, is synced, then renamed.
    pub async fn put(&self, name: &str, source: &Path) -> Result<(), BackupError> {
        match self {
            Destination::Folder(dir) => {
                let target = dir.join(name);
                let parent = target.parent().unwrap_or(dir);
                tokio::fs::create_dir_all(parent).await?;
                let partial = parent.join(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
                tokio::fs::copy(source, &partial).await?;
                tokio::fs::File::open(&partial).await?.sync_all().await?;
                tokio::fs::rename(&partial, &target).await?;
                Ok(())
            }
            Destination::S3 { client, bucket, prefix } => {
                let body = aws_sdk_s3::primitives::ByteStream::from_path(source).await.map_err(s3_error)?;
                client
                    .put_object()
                    .bucket(bucket)
                    .key(format!("{prefix}{name}"))
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                Ok(())
            }
        }
    }

    pub async fn put_text(&self, name: &str, text: &str) -> Result<(), BackupError> {
        match self {
            Destination::Folder(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let partial = dir.join(format!(".{name}.partial"));
                let mut file = tokio::fs::File::create(&partial).await?;
                file.write_all(text.as_bytes()).await?;
                file.sync_all().await?;
                tokio::fs::rename(&partial, dir.join(name)).await?;
                Ok(())
            }
            Destination::S3 { client, bucket, prefix } => {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(format!("{prefix}{name}"))
                    .body(text.as_bytes().to_vec().into())
                    .send()
                    .await
                    .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                Ok(())
            }
        }
    }

    /// The snapshots here, by name, oldest first.
    pub async fn list(&self) -> Result<Vec<String>, BackupError> {
        let mut names = Vec::new();
        match self {
            Destination::Folder(dir) => {
                let mut entries = match tokio::fs::read_dir(dir).await {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
                    Err(e) => return Err(e.into()),
                };
                while let Some(entry) = entries.next_entry().await? {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
            Destination::S3 { client, bucket, prefix } => {
                let mut pages = client.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                    for object in page.contents() {
                        if let Some(name) = object.key().and_then(|k| k.strip_prefix(prefix.as_str())) {
                            names.push(name.to_owned());
                        }
                    }
                }
            }
        }
        names.retain(|n| n.starts_with("moth-") && n.ends_with(SUFFIX) && !n.contains('/'));
        names.sort();
        Ok(names)
    }

    /// Copies `name` into the local file `to`.
    pub async fn fetch(&self, name: &str, to: &Path) -> Result<(), BackupError> {
        match self {
            Destination::Folder(dir) => {
                tokio::fs::copy(dir.join(name), to)
                    .await
                    .map_err(|e| BackupError::Destination(format!("{name} in {}: {e}", dir.display())))?;
            }
            Destination::S3 { client, bucket, prefix } => {
                let object = client
                    .get_object()
                    .bucket(bucket)
                    .key(format!("{prefix}{name}"))
                    .send()
                    .await
                    .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                let mut body = object.body.into_async_read();
                let mut file = tokio::fs::File::create(to).await?;
                tokio::io::copy(&mut body, &mut file).await?;
                file.sync_all().await?;
            }
        }
        Ok(())
    }

    /// The text of a small object (a sidecar); `None` when it is not there.
    pub async fn text(&self, name: &str) -> Result<Option<String>, BackupError> {
        match self {
            Destination::Folder(dir) => match tokio::fs::read_to_string(dir.join(name)).await {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            Destination::S3 { client, bucket, prefix } => {
                let object = client.get_object().bucket(bucket).key(format!("{prefix}{name}")).send().await;
                match object {
                    Ok(object) => {
                        let bytes = object.body.collect().await.map_err(s3_error)?.into_bytes();
                        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
                    }
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(s3_error(aws_sdk_s3::error::DisplayErrorContext(e))),
                }
            }
        }
    }

    /// Removes the object `key` (nothing if it is not there).
    pub async fn delete_object(&self, key: &str) -> Result<(), BackupError> {
        match self {
            Destination::Folder(dir) => match tokio::fs::remove_file(dir.join(key)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            },
            Destination::S3 { client, bucket, prefix } => {
                client
                    .delete_object()
                    .bucket(bucket)
                    .key(format!("{prefix}{key}"))
                    .send()
                    .await
                    .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                Ok(())
            }
        }
    }

    /// The objects under `under` (such as `replica/`), as keys relative to it, at any depth.
    pub async fn list_objects(&self, under: &str) -> Result<Vec<String>, BackupError> {
        let mut keys = Vec::new();
        match self {
            Destination::Folder(dir) => {
                let root = dir.join(under);
                let mut stack = vec![root.clone()];
                while let Some(folder) = stack.pop() {
                    let mut entries = match tokio::fs::read_dir(&folder).await {
                        Ok(entries) => entries,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e.into()),
                    };
                    while let Some(entry) = entries.next_entry().await? {
                        if entry.file_type().await?.is_dir() {
                            stack.push(entry.path());
                        } else if let Ok(relative) = entry.path().strip_prefix(&root) {
                            let key = relative.to_string_lossy().into_owned();
                            if !key.rsplit('/').next().is_some_and(|n| n.starts_with('.')) {
                                keys.push(key);
                            }
                        }
                    }
                }
            }
            Destination::S3 { client, bucket, prefix } => {
                let full = format!("{prefix}{under}");
                let mut pages = client.list_objects_v2().bucket(bucket).prefix(&full).into_paginator().send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                    keys.extend(
                        page.contents().iter().filter_map(|o| o.key()?.strip_prefix(full.as_str())).map(str::to_owned),
                    );
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Removes a snapshot and its sidecar.
    pub async fn delete(&self, name: &str) -> Result<(), BackupError> {
        self.delete_object(name).await?;
        self.delete_object(&format!("{name}{SIDECAR}")).await
    }
}
