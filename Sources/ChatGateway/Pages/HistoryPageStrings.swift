/// Every text of the operators' history page (`GET /cache`), in the five supported languages. The page's
/// script receives the whole table as JSON; `{name}` marks a value the script fills in.
struct HistoryPageStrings: Codable, Equatable, Sendable, LocalizedStrings {
    var title: String
    // Sign-in.
    var signInIntro: String
    var apiKey: String
    var signIn: String
    var wrongKey: String
    var crossSite: String
    var sessionEnded: String
    /// A valid key that serves only some systems (or only chat tokens).
    var keyTooNarrow: String
    var signOut: String
    // Filters.
    var filters: String
    var system: String
    var user: String
    var fromDate: String
    var toDate: String
    var text: String
    var textPlaceholder: String
    var apply: String
    var clear: String
    // Results.
    var conversations: String
    var conversation: String
    var created: String
    var updated: String
    var untitled: String
    var deleted: String
    /// `{first}`, `{last}`, `{total}`.
    var range: String
    var noResults: String
    var pages: String
    var previous: String
    var next: String
    var export: String
    var exportCSV: String
    var exportJSONL: String
    // Sync.
    var syncNow: String
    var syncing: String
    /// `{users}`, `{conversations}`, `{messages}`.
    var syncDone: String
    /// `{count}`.
    var syncErrors: String
    var syncFailed: String
    // A conversation.
    var close: String
    var roleUser: String
    var roleAssistant: String
    var statusFailed: String
    var statusStopped: String
    var statusStreaming: String
    var statusPending: String
    var noMessages: String
    var loading: String
    var loadFailed: String

    static let english = HistoryPageStrings(
        title: "Conversation history",
        signInIntro: "For operators: sign in with one of the gateway's API keys (CHAT_GATEWAY_API_KEY).",
        apiKey: "API key", signIn: "Sign in", wrongKey: "That API key is not valid.",
        crossSite: "This sign-in did not come from this page. Please sign in here.",
        sessionEnded: "Your session has ended. Please sign in again.", keyTooNarrow: "That key serves only some systems (or only chat tokens). The history page needs a key for all systems.", signOut: "Sign out",
        filters: "Filters", system: "System", user: "User", fromDate: "From", toDate: "To", text: "Text",
        textPlaceholder: "Words in names or messages", apply: "Search", clear: "Clear",
        conversations: "Conversations", conversation: "Conversation", created: "Created", updated: "Updated",
        untitled: "Untitled conversation", deleted: "Deleted in Dify", range: "{first}–{last} of {total}",
        noResults: "No conversations match these filters.", pages: "Pages", previous: "Previous", next: "Next",
        export: "Export", exportCSV: "CSV", exportJSONL: "JSON Lines",
        syncNow: "Sync now", syncing: "Syncing…",
        syncDone: "Sync finished: {users} users, {conversations} conversations updated, {messages} messages added or changed.",
        syncErrors: "{count} users could not be synced.", syncFailed: "The sync failed.",
        close: "Close", roleUser: "User", roleAssistant: "Assistant", statusFailed: "Failed", statusStopped: "Stopped",
        statusStreaming: "Streaming", statusPending: "Pending", noMessages: "No messages stored for this conversation.",
        loading: "Loading…", loadFailed: "Could not load the data.")

    static let spanish = HistoryPageStrings(
        title: "Historial de conversaciones",
        signInIntro: "Para operadores: inicia sesión con una de las claves API de la pasarela (CHAT_GATEWAY_API_KEY).",
        apiKey: "Clave API", signIn: "Iniciar sesión", wrongKey: "Esa clave API no es válida.",
        crossSite: "Este inicio de sesión no vino de esta página. Inicia sesión aquí.",
        sessionEnded: "Tu sesión ha terminado. Vuelve a iniciar sesión.", keyTooNarrow: "Esa clave solo sirve para algunos sistemas (o solo para tokens de chat). La página de historial necesita una clave para todos los sistemas.", signOut: "Cerrar sesión",
        filters: "Filtros", system: "Sistema", user: "Usuario", fromDate: "Desde", toDate: "Hasta", text: "Texto",
        textPlaceholder: "Palabras en nombres o mensajes", apply: "Buscar", clear: "Limpiar",
        conversations: "Conversaciones", conversation: "Conversación", created: "Creada", updated: "Actualizada",
        untitled: "Conversación sin título", deleted: "Eliminada en Dify", range: "{first}–{last} de {total}",
        noResults: "Ninguna conversación coincide con estos filtros.", pages: "Páginas", previous: "Anterior", next: "Siguiente",
        export: "Exportar", exportCSV: "CSV", exportJSONL: "JSON Lines",
        syncNow: "Sincronizar ahora", syncing: "Sincronizando…",
        syncDone: "Sincronización terminada: {users} usuarios, {conversations} conversaciones actualizadas, {messages} mensajes añadidos o cambiados.",
        syncErrors: "No se pudo sincronizar a {count} usuarios.", syncFailed: "La sincronización falló.",
        close: "Cerrar", roleUser: "Usuario", roleAssistant: "Asistente", statusFailed: "Fallido", statusStopped: "Detenido",
        statusStreaming: "En curso", statusPending: "Pendiente", noMessages: "No hay mensajes guardados de esta conversación.",
        loading: "Cargando…", loadFailed: "No se pudieron cargar los datos.")

    static let korean = HistoryPageStrings(
        title: "대화 기록",
        signInIntro: "운영자용: 게이트웨이 API 키(CHAT_GATEWAY_API_KEY) 중 하나로 로그인하세요.",
        apiKey: "API 키", signIn: "로그인", wrongKey: "유효하지 않은 API 키입니다.",
        crossSite: "이 로그인 요청은 이 페이지에서 온 것이 아닙니다. 여기에서 로그인하세요.",
        sessionEnded: "세션이 종료되었습니다. 다시 로그인하세요.", keyTooNarrow: "이 키는 일부 시스템(또는 채팅 토큰)에만 쓸 수 있습니다. 기록 페이지에는 모든 시스템용 키가 필요합니다.", signOut: "로그아웃",
        filters: "필터", system: "시스템", user: "사용자", fromDate: "시작일", toDate: "종료일", text: "텍스트",
        textPlaceholder: "대화 이름이나 메시지의 단어", apply: "검색", clear: "지우기",
        conversations: "대화", conversation: "대화", created: "생성", updated: "수정",
        untitled: "제목 없는 대화", deleted: "Dify에서 삭제됨", range: "{total}개 중 {first}–{last}",
        noResults: "조건에 맞는 대화가 없습니다.", pages: "페이지", previous: "이전", next: "다음",
        export: "내보내기", exportCSV: "CSV", exportJSONL: "JSON Lines",
        syncNow: "지금 동기화", syncing: "동기화 중…",
        syncDone: "동기화 완료: 사용자 {users}명, 대화 {conversations}개 갱신, 메시지 {messages}개 추가 또는 변경.",
        syncErrors: "사용자 {count}명을 동기화하지 못했습니다.", syncFailed: "동기화에 실패했습니다.",
        close: "닫기", roleUser: "사용자", roleAssistant: "어시스턴트", statusFailed: "실패", statusStopped: "중지됨",
        statusStreaming: "수신 중", statusPending: "대기 중", noMessages: "이 대화에 저장된 메시지가 없습니다.",
        loading: "불러오는 중…", loadFailed: "데이터를 불러오지 못했습니다.")

    static let chinese = HistoryPageStrings(
        title: "对话记录",
        signInIntro: "仅限运维人员：使用网关的 API 密钥（CHAT_GATEWAY_API_KEY）之一登录。",
        apiKey: "API 密钥", signIn: "登录", wrongKey: "此 API 密钥无效。",
        crossSite: "此登录请求并非来自本页面。请在此处登录。",
        sessionEnded: "会话已结束，请重新登录。", keyTooNarrow: "此密钥仅适用于部分系统（或仅用于聊天令牌）。历史记录页面需要适用于所有系统的密钥。", signOut: "退出登录",
        filters: "筛选", system: "系统", user: "用户", fromDate: "开始日期", toDate: "结束日期", text: "文本",
        textPlaceholder: "名称或消息中的文字", apply: "搜索", clear: "清除",
        conversations: "对话", conversation: "对话", created: "创建时间", updated: "更新时间",
        untitled: "未命名对话", deleted: "已在 Dify 中删除", range: "第 {first}–{last} 条，共 {total} 条",
        noResults: "没有符合筛选条件的对话。", pages: "分页", previous: "上一页", next: "下一页",
        export: "导出", exportCSV: "CSV", exportJSONL: "JSON Lines",
        syncNow: "立即同步", syncing: "正在同步…",
        syncDone: "同步完成：{users} 个用户，更新 {conversations} 个对话，新增或修改 {messages} 条消息。",
        syncErrors: "{count} 个用户同步失败。", syncFailed: "同步失败。",
        close: "关闭", roleUser: "用户", roleAssistant: "助手", statusFailed: "失败", statusStopped: "已停止",
        statusStreaming: "接收中", statusPending: "等待中", noMessages: "此对话没有已保存的消息。",
        loading: "加载中…", loadFailed: "无法加载数据。")

    static let japanese = HistoryPageStrings(
        title: "会話履歴",
        signInIntro: "運用担当者向け：ゲートウェイの API キー（CHAT_GATEWAY_API_KEY）のいずれかでサインインしてください。",
        apiKey: "API キー", signIn: "サインイン", wrongKey: "この API キーは無効です。",
        crossSite: "このサインインはこのページからのものではありません。ここでサインインしてください。",
        sessionEnded: "セッションが終了しました。もう一度サインインしてください。", keyTooNarrow: "このキーは一部のシステム（またはチャットトークン）専用です。履歴ページにはすべてのシステム用のキーが必要です。", signOut: "サインアウト",
        filters: "絞り込み", system: "システム", user: "ユーザー", fromDate: "開始日", toDate: "終了日", text: "テキスト",
        textPlaceholder: "会話名やメッセージ内の語句", apply: "検索", clear: "クリア",
        conversations: "会話", conversation: "会話", created: "作成日時", updated: "更新日時",
        untitled: "無題の会話", deleted: "Dify で削除済み", range: "{total} 件中 {first}–{last} 件",
        noResults: "条件に一致する会話はありません。", pages: "ページ", previous: "前へ", next: "次へ",
        export: "エクスポート", exportCSV: "CSV", exportJSONL: "JSON Lines",
        syncNow: "今すぐ同期", syncing: "同期中…",
        syncDone: "同期完了：ユーザー {users} 人、会話 {conversations} 件を更新、メッセージ {messages} 件を追加または変更。",
        syncErrors: "{count} 人のユーザーを同期できませんでした。", syncFailed: "同期に失敗しました。",
        close: "閉じる", roleUser: "ユーザー", roleAssistant: "アシスタント", statusFailed: "失敗", statusStopped: "停止",
        statusStreaming: "受信中", statusPending: "保留中", noMessages: "この会話に保存されたメッセージはありません。",
        loading: "読み込み中…", loadFailed: "データを読み込めませんでした。")
}
