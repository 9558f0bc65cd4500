//! Translation catalogs (spec §6.10): en and ru side by side in one table, so both always
//! have the same keys. An unknown key renders "Translation unavailable", never the key.
//! Dates are shown in the server's local time zone.

/// `(key, en, ru)`.
const CATALOG: &[(&str, &str, &str)] = &[
    ("app.title", "Verstak Sync", "Verstak Sync"),
    ("nav.home", "Home", "Главная"),
    ("nav.login", "Sign in", "Войти"),
    ("nav.register", "Create account", "Регистрация"),
    ("nav.dashboard", "My devices", "Мои устройства"),
    ("nav.logout", "Sign out", "Выйти"),
    ("nav.language", "Language", "Язык"),
    ("nav.apply", "Apply", "Применить"),
    ("locale.system", "System", "Как в системе"),
    ("home.status", "Status", "Состояние"),
    ("home.ready", "ready", "работает"),
    ("home.version", "Version", "Версия"),
    (
        "home.unavailable",
        "The server is temporarily unavailable.",
        "Сервер временно недоступен.",
    ),
    (
        "home.intro",
        "Sync your Verstak vaults between devices.",
        "Синхронизация хранилищ Verstak между устройствами.",
    ),
    ("form.username", "Username", "Имя пользователя"),
    (
        "form.login",
        "Username or email",
        "Имя пользователя или email",
    ),
    ("form.email", "Email", "Email"),
    ("form.password", "Password", "Пароль"),
    ("form.newPassword", "New password", "Новый пароль"),
    (
        "form.confirmPassword",
        "Repeat the password",
        "Повторите пароль",
    ),
    ("form.submit", "Continue", "Продолжить"),
    ("form.cancel", "Cancel", "Отмена"),
    ("form.search", "Search", "Поиск"),
    ("form.filter", "Filter", "Фильтр"),
    ("login.title", "Sign in", "Вход"),
    ("login.forgot", "Forgot your password?", "Забыли пароль?"),
    (
        "register.title",
        "Create an account",
        "Создание учётной записи",
    ),
    (
        "register.result",
        "Check your inbox: we sent a link to confirm your email address.",
        "Проверьте почту: мы отправили ссылку для подтверждения адреса.",
    ),
    (
        "register.pending",
        "Your account was created. This server sends no email, so an administrator has to confirm the account before you can sign in.",
        "Учётная запись создана. Этот сервер не отправляет почту, поэтому войти можно будет после того, как администратор подтвердит учётную запись.",
    ),
    (
        "forgot.title",
        "Reset your password",
        "Восстановление пароля",
    ),
    (
        "forgot.sent",
        "If the address belongs to an account, a reset link is on its way. An account without an email address gets no mail: ask the server's administrator to set a new password.",
        "Если адрес принадлежит учётной записи, ссылка для сброса уже отправлена. На учётную запись без адреса почты письмо не придёт: попросите администратора сервера задать новый пароль.",
    ),
    (
        "forgot.noEmail",
        "Enter the email address of your account. An account without an email address cannot reset its password by mail: ask the server's administrator.",
        "Введите адрес почты вашей учётной записи. Учётная запись без адреса почты не может сбросить пароль по почте: обратитесь к администратору сервера.",
    ),
    ("reset.title", "Choose a new password", "Новый пароль"),
    (
        "reset.done",
        "Your password was changed. You can sign in now.",
        "Пароль изменён. Теперь можно войти.",
    ),
    (
        "confirm.title",
        "Confirm your email address",
        "Подтверждение адреса",
    ),
    ("confirm.button", "Confirm my address", "Подтвердить адрес"),
    (
        "confirm.result",
        "Your email address is confirmed. You can sign in now.",
        "Адрес подтверждён. Теперь можно войти.",
    ),
    ("dashboard.title", "My devices", "Мои устройства"),
    (
        "dashboard.empty",
        "No devices are connected yet.",
        "Пока нет подключённых устройств.",
    ),
    ("dashboard.vaults", "Vaults", "Хранилища"),
    ("device.name", "Device", "Устройство"),
    ("device.vault", "Vault", "Хранилище"),
    ("device.version", "Client version", "Версия клиента"),
    ("device.created", "Connected", "Подключено"),
    ("device.lastSeen", "Last seen", "Последняя активность"),
    ("device.revoked", "Revoked", "Отключено"),
    ("device.active", "Active", "Активно"),
    ("device.revoke", "Revoke", "Отключить"),
    (
        "device.revokeConfirm",
        "Enter your password to revoke this device.",
        "Введите пароль, чтобы отключить это устройство.",
    ),
    ("device.token", "Token", "Токен"),
    ("device.user", "User", "Пользователь"),
    (
        "user.deviceRevoked",
        "The device was revoked.",
        "Устройство отключено.",
    ),
    ("confirm.dialogTitle", "Are you sure?", "Вы уверены?"),
    ("admin.noEmail", "no email", "нет адреса почты"),
    ("confirm.ok", "Yes, continue", "Да, продолжить"),
    ("error.title", "Something went wrong", "Что-то пошло не так"),
    ("error.back", "Back to the start page", "На главную"),
    (
        "error.notFound",
        "The page you are looking for does not exist.",
        "Такой страницы нет.",
    ),
    (
        "error.badRequest",
        "The request is invalid.",
        "Некорректный запрос.",
    ),
    (
        "error.csrf",
        "The form has expired. Reload the page and try again.",
        "Форма устарела. Обновите страницу и попробуйте снова.",
    ),
    (
        "error.rateLimited",
        "Too many attempts.",
        "Слишком много попыток.",
    ),
    (
        "error.retryIn",
        "Try again in {wait}.",
        "Повторите попытку через {wait}.",
    ),
    ("wait.second.one", "second", "секунду"),
    ("wait.second.few", "seconds", "секунды"),
    ("wait.second.many", "seconds", "секунд"),
    ("wait.minute.one", "minute", "минуту"),
    ("wait.minute.few", "minutes", "минуты"),
    ("wait.minute.many", "minutes", "минут"),
    ("error.internal", "Internal error.", "Внутренняя ошибка."),
    (
        "error.invalidToken",
        "The link is invalid or has expired.",
        "Ссылка недействительна или устарела.",
    ),
    (
        "error.allFieldsRequired",
        "Fill in all fields.",
        "Заполните все поля.",
    ),
    (
        "error.invalidEmail",
        "The email address is invalid.",
        "Некорректный адрес электронной почты.",
    ),
    (
        "error.invalidUsername",
        "A username may contain only letters, digits, dots (.), underscores (_) and hyphens (-).",
        "Имя пользователя может содержать только буквы, цифры, точки (.), знаки подчёркивания (_) и дефисы (-).",
    ),
    (
        "error.passwordInvalid",
        "The password must be 8 to 72 bytes long.",
        "Пароль должен быть длиной от 8 до 72 байт.",
    ),
    (
        "error.passwordMismatch",
        "The passwords do not match.",
        "Пароли не совпадают.",
    ),
    (
        "error.accountTaken",
        "This username or email is already taken.",
        "Это имя пользователя или адрес уже заняты.",
    ),
    (
        "error.invalidCredentials",
        "Wrong username or password.",
        "Неверное имя пользователя или пароль.",
    ),
    (
        "error.accountBlocked",
        "This account is blocked.",
        "Учётная запись заблокирована.",
    ),
    (
        "error.emailNotConfirmed",
        "Confirm your email address first.",
        "Сначала подтвердите адрес электронной почты.",
    ),
    (
        "error.emailRequired",
        "Enter your email address.",
        "Введите адрес электронной почты.",
    ),
    (
        "error.invalidPublicURL",
        "The public URL must be an absolute http(s) URL.",
        "Публичный адрес должен быть абсолютным http(s) URL.",
    ),
    (
        "error.deviceMustBeRevoked",
        "Revoke the device before deleting it.",
        "Сначала отключите устройство.",
    ),
    (
        "error.unknownAction",
        "Unknown action.",
        "Неизвестное действие.",
    ),
    ("admin.title", "Administration", "Администрирование"),
    (
        "admin.login",
        "Administrator sign-in",
        "Вход администратора",
    ),
    ("admin.dashboard", "Dashboard", "Обзор"),
    ("admin.users", "Users", "Пользователи"),
    ("admin.createUser", "Create user", "Создать пользователя"),
    ("admin.devices", "Devices", "Устройства"),
    ("admin.vaults", "Vaults", "Хранилища"),
    ("admin.vault", "Vault", "Хранилище"),
    ("admin.storage", "Storage", "Хранилище данных"),
    ("admin.audit", "Audit log", "Журнал аудита"),
    ("admin.settings", "Settings", "Настройки"),
    ("admin.diagnostics", "Diagnostics", "Диагностика"),
    ("admin.logout", "Sign out", "Выйти"),
    ("admin.manage", "Manage", "Управление"),
    ("admin.close", "Close", "Закрыть"),
    ("admin.save", "Save", "Сохранить"),
    ("admin.id", "ID", "ID"),
    ("admin.confirmed", "Confirmed", "Подтверждён"),
    ("admin.blocked", "Blocked", "Заблокирован"),
    ("admin.yes", "yes", "да"),
    ("admin.no", "no", "нет"),
    ("admin.devicesCount", "Devices", "Устройства"),
    ("admin.created", "Created", "Создан"),
    ("admin.lastSeen", "Last seen", "Последний вход"),
    ("admin.editUser", "Save changes", "Сохранить изменения"),
    (
        "admin.toggleUser",
        "Block / unblock",
        "Заблокировать / разблокировать",
    ),
    ("admin.confirmUser", "Confirm email", "Подтвердить email"),
    ("admin.resetPassword", "Reset password", "Сбросить пароль"),
    ("admin.deleteUser", "Delete user", "Удалить пользователя"),
    (
        "admin.revokeDevice",
        "Revoke device",
        "Отключить устройство",
    ),
    ("admin.deleteDevice", "Delete device", "Удалить устройство"),
    (
        "admin.yourPassword",
        "Your admin password",
        "Ваш пароль администратора",
    ),
    ("admin.status", "Status", "Статус"),
    ("admin.statusAll", "All", "Все"),
    ("admin.statusActive", "Active", "Активные"),
    ("admin.statusBlocked", "Blocked", "Заблокированные"),
    ("admin.statusUnconfirmed", "Unconfirmed", "Неподтверждённые"),
    ("admin.statusRevoked", "Revoked", "Отключённые"),
    ("admin.sort", "Sort", "Сортировка"),
    ("admin.total", "Total", "Всего"),
    ("admin.page", "Page", "Страница"),
    ("admin.prev", "Previous", "Назад"),
    ("admin.next", "Next", "Вперёд"),
    ("admin.ops", "Operations", "Операции"),
    ("admin.lastSequence", "Highest sequence", "Последний номер"),
    (
        "admin.lastActivity",
        "Last activity",
        "Последняя активность",
    ),
    ("admin.blobBytes", "Blob bytes", "Объём вложений"),
    (
        "admin.activeDevices",
        "Active devices",
        "Активные устройства",
    ),
    (
        "admin.revokedDevices",
        "Revoked devices",
        "Отключённые устройства",
    ),
    ("admin.event", "Event", "Событие"),
    ("admin.message", "Message", "Сообщение"),
    ("admin.ip", "IP", "IP"),
    ("admin.time", "Time", "Время"),
    ("admin.recentAudit", "Recent events", "Последние события"),
    ("admin.health", "Health", "Состояние"),
    (
        "admin.pendingAccounts",
        "Accounts waiting for confirmation",
        "Учётные записи ждут подтверждения",
    ),
    ("admin.showPending", "Show them", "Показать"),
    ("admin.cleanup", "Run cleanup now", "Запустить очистку"),
    (
        "admin.cleanupDone",
        "Cleanup finished.",
        "Очистка выполнена.",
    ),
    ("admin.general", "General", "Общие"),
    (
        "admin.defaultLocale",
        "Default language",
        "Язык по умолчанию",
    ),
    ("admin.publicUrl", "Public URL", "Публичный адрес"),
    (
        "admin.allowRegistration",
        "Allow self-registration",
        "Разрешить регистрацию",
    ),
    ("admin.serverName", "Server name", "Название сервера"),
    (
        "admin.trustedProxies",
        "Trusted proxies",
        "Доверенные прокси",
    ),
    ("admin.smtp", "Email (SMTP)", "Почта (SMTP)"),
    (
        "admin.smtpTest",
        "Send a test message",
        "Отправить тестовое письмо",
    ),
    ("admin.smtpTestTo", "Recipient", "Получатель"),
    (
        "admin.smtpRequired",
        "SMTP host, port and sender are required.",
        "Нужны SMTP-сервер, порт и адрес отправителя.",
    ),
    (
        "admin.smtpTestFailed",
        "The test message could not be sent.",
        "Не удалось отправить тестовое письмо.",
    ),
    ("admin.limits", "Limits", "Ограничения"),
    (
        "admin.settingsSaved",
        "Settings saved.",
        "Настройки сохранены.",
    ),
    (
        "admin.smtpSaved",
        "SMTP settings saved.",
        "Настройки SMTP сохранены.",
    ),
    (
        "admin.smtpTestPassed",
        "The test message was sent.",
        "Тестовое письмо отправлено.",
    ),
    ("admin.passwordResult", "New password", "Новый пароль"),
    (
        "admin.passwordResultHint",
        "The password is shown once. Hand it to the user over a safe channel.",
        "Пароль показывается один раз. Передайте его пользователю надёжным способом.",
    ),
    ("admin.showPassword", "Show the password", "Показать пароль"),
    (
        "admin.warningReadiness",
        "The database or blob storage is not available.",
        "База данных или хранилище вложений недоступны.",
    ),
    (
        "admin.warningSMTP",
        "SMTP is not configured: confirmation and reset mails are not sent.",
        "SMTP не настроен: письма подтверждения и сброса не отправляются.",
    ),
    (
        "admin.warningOperations",
        "More than 100000 operations are stored.",
        "Сохранено более 100000 операций.",
    ),
    (
        "admin.warningLinkBase",
        "SMTP is configured but neither server_url nor public_url is set: mails cannot contain links.",
        "SMTP настроен, но не задан ни server_url, ни public_url: в письмах не будет ссылок.",
    ),
    ("stats.users", "Users", "Пользователи"),
    (
        "stats.active_users",
        "Active users",
        "Активные пользователи",
    ),
    ("stats.blocked_users", "Blocked users", "Заблокированные"),
    (
        "stats.unconfirmed_users",
        "Unconfirmed users",
        "Неподтверждённые",
    ),
    (
        "stats.active_devices",
        "Active devices",
        "Активные устройства",
    ),
    (
        "stats.revoked_devices",
        "Revoked devices",
        "Отключённые устройства",
    ),
    ("stats.vaults", "Vaults", "Хранилища"),
    ("stats.operations", "Operations", "Операции"),
    (
        "stats.operations_24h",
        "Operations (24 h)",
        "Операции за 24 ч",
    ),
    ("stats.blobs", "Blobs", "Вложения"),
    (
        "stats.blob_references",
        "Blob references",
        "Ссылки на вложения",
    ),
    ("stats.orphan_blobs", "Orphan blobs", "Ничейные вложения"),
    (
        "stats.temp_uploads",
        "Temporary uploads",
        "Незавершённые загрузки",
    ),
    (
        "stats.expired_sessions",
        "Expired sessions",
        "Истёкшие сессии",
    ),
    (
        "stats.expired_email_tokens",
        "Expired email tokens",
        "Истёкшие токены писем",
    ),
    ("stats.audit_events", "Audit events", "События аудита"),
    ("stats.database_bytes", "Database bytes", "Размер базы"),
    ("stats.blob_bytes", "Blob bytes", "Размер вложений"),
    (
        "stats.last_sync_activity",
        "Last sync activity",
        "Последняя синхронизация",
    ),
    ("stats.last_cleanup_at", "Last cleanup", "Последняя очистка"),
    // The history retention section (issue 17, docs/history-retention.md).
    ("admin.history", "History", "История"),
    (
        "admin.historyIntro",
        "How long old versions are kept. The latest version of every file is never removed, and nothing a device has not pulled yet. Versions older than the daily span: one per month.",
        "Сколько хранить старые версии. Последняя версия каждого файла не удаляется никогда, как и то, что устройство ещё не получило. Версии старше дневного срока: одна в месяц.",
    ),
    (
        "history.compact_min_backlog",
        "Send only the latest versions to devices behind by more than (operations)",
        "Отправлять только последние версии устройствам, отставшим более чем на (операций)",
    ),
    (
        "history.keep_all_days",
        "Keep every version for (days)",
        "Хранить все версии (дней)",
    ),
    (
        "history.keep_daily_days",
        "Then one version per day up to (days)",
        "Затем одну версию в день до (дней)",
    ),
    (
        "history.tombstone_days",
        "Keep deleted files' history at least (days)",
        "Хранить историю удалённых файлов не менее (дней)",
    ),
    (
        "history.blob_grace_hours",
        "Remove unused blob files after (hours)",
        "Удалять неиспользуемые файлы блобов через (часов)",
    ),
    (
        "admin.historySaved",
        "History settings saved. They apply from the next cleanup (hourly, or Run cleanup now).",
        "Настройки истории сохранены. Они действуют со следующей очистки (раз в час или «Запустить очистку»).",
    ),
    (
        "error.invalidHistory",
        "Enter whole numbers of 0 or more; the daily span cannot be shorter than the keep-all span.",
        "Введите целые числа от 0; дневной срок не может быть короче срока хранения всех версий.",
    ),
];

/// A resolved page locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locale {
    En,
    Ru,
}

impl Locale {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
        }
    }

    /// `ru` → Ru, anything else → En.
    pub(crate) fn from_code(s: &str) -> Locale {
        if s == "ru" { Locale::Ru } else { Locale::En }
    }

    /// The first `ru*` or `en*` entry of an `Accept-Language` header.
    pub(crate) fn from_accept_language(h: &str) -> Option<Locale> {
        h.split(',').find_map(|part| {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("ru") {
                Some(Locale::Ru)
            } else if tag.starts_with("en") {
                Some(Locale::En)
            } else {
                None
            }
        })
    }
}

/// All tables: this module's, the console's and the history pages'.
fn entries() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    CATALOG
        .iter()
        .chain(super::console_text::CONSOLE)
        .chain(super::history_text::HISTORY)
}

/// The text of `key` in `loc`.
pub(crate) fn t(loc: Locale, key: &str) -> &'static str {
    match entries().find(|(k, _, _)| *k == key) {
        Some((_, en, ru)) => match loc {
            Locale::En => en,
            Locale::Ru => ru,
        },
        None => match loc {
            Locale::En => "Translation unavailable",
            Locale::Ru => "Перевод временно недоступен",
        },
    }
}

/// "Try again in 15 minutes." for a `Retry-After` of `secs` seconds: seconds under a minute,
/// otherwise whole minutes rounded up, with the plural form the language needs.
pub(crate) fn retry_in(loc: Locale, secs: u64) -> String {
    let (n, unit) = if secs < 60 {
        (secs.max(1), "second")
    } else {
        (secs.div_ceil(60), "minute")
    };
    let form = super::format::plural(loc, n);
    let wait = format!("{n} {}", t(loc, &format!("wait.{unit}.{form}")));
    t(loc, "error.retryIn").replace("{wait}", &wait)
}

/// True if the catalog has `key` (used to accept only known flash keys).
pub(crate) fn has(key: &str) -> bool {
    entries().any(|(k, _, _)| *k == key)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` into Unix seconds.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// A server timestamp in local time: ru `17.07.2026 13:45`, en `Jul 17, 2026 13:45`.
/// Empty stays empty; anything unparseable is shown as it is.
pub(crate) fn fmt_date(loc: Locale, s: &str) -> String {
    let Some(secs) = parse_rfc3339(s) else {
        return s.to_owned();
    };
    let t = secs as libc::time_t;
    // SAFETY: localtime_r writes only into the zeroed `tm` we pass and reads `t`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return s.to_owned();
    }
    let (y, mo, d, h, mi) = (
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
    );
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match loc {
        Locale::Ru => format!("{d:02}.{mo:02}.{y} {h:02}:{mi:02}"),
        Locale::En => format!("{} {d}, {y} {h:02}:{mi:02}", MONTHS[(mo as usize - 1) % 12]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_keys_are_unique_and_unknown_keys_are_hidden() {
        let mut keys: Vec<&str> = entries().map(|(k, _, _)| *k).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate catalog key");
        assert!(entries().all(|(_, en, ru)| !en.is_empty() && !ru.is_empty()));
        assert_eq!(t(Locale::En, "no.such.key"), "Translation unavailable");
        assert_eq!(t(Locale::Ru, "no.such.key"), "Перевод временно недоступен");
    }

    #[test]
    fn retry_times_read_naturally_in_both_languages() {
        let en = |s| retry_in(Locale::En, s);
        let ru = |s| retry_in(Locale::Ru, s);
        assert_eq!(en(0), "Try again in 1 second.");
        assert_eq!(en(45), "Try again in 45 seconds.");
        assert_eq!(en(60), "Try again in 1 minute.");
        assert_eq!(en(61), "Try again in 2 minutes.");
        assert_eq!(en(900), "Try again in 15 minutes.");
        assert_eq!(ru(1), "Повторите попытку через 1 секунду.");
        assert_eq!(ru(3), "Повторите попытку через 3 секунды.");
        assert_eq!(ru(11), "Повторите попытку через 11 секунд.");
        assert_eq!(ru(21 * 60), "Повторите попытку через 21 минуту.");
        assert_eq!(ru(22 * 60), "Повторите попытку через 22 минуты.");
        assert_eq!(ru(12 * 60), "Повторите попытку через 12 минут.");
        assert_eq!(ru(900), "Повторите попытку через 15 минут.");
    }

    #[test]
    fn dates_and_languages() {
        assert_eq!(parse_rfc3339("1970-01-02T00:00:01Z"), Some(86_401));
        assert_eq!(parse_rfc3339("2026-07-21T02:36:30Z"), Some(1_784_601_390));
        assert!(
            fmt_date(Locale::Ru, "2026-07-17T13:45:00Z").starts_with("17.07.2026 ")
                || fmt_date(Locale::Ru, "2026-07-17T13:45:00Z").contains(".07.2026 ")
        );
        assert!(fmt_date(Locale::En, "2026-07-17T13:45:00Z").starts_with("Jul 1"));
        assert_eq!(
            Locale::from_accept_language("de, ru-RU;q=0.9"),
            Some(Locale::Ru)
        );
        assert_eq!(Locale::from_accept_language("fr"), None);
    }
}
