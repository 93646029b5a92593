/// Every text the chat page shows, in the five supported languages. The first eight keys and their
/// English texts are the Python gateway's; the page's script receives the whole table as JSON.
struct PageStrings: Codable, Equatable, Sendable, LocalizedStrings {
    // The Python gateway's keys.
    var placeholder: String
    var send: String
    var empty: String
    var emptyFull: String
    var errorList: String
    var errorMessages: String
    var errorSend: String
    var errorUnavailable: String
    var errorTimeout: String
    // Controls.
    var title: String
    var messageLabel: String
    var newChat: String
    var conversations: String
    var showConversations: String
    var untitled: String
    var rename: String
    var renameLabel: String
    var save: String
    var cancel: String
    var delete: String
    var deleteConfirm: String
    var stop: String
    var stopped: String
    var retry: String
    var typing: String
    var like: String
    var dislike: String
    var copy: String
    var copied: String
    var suggestions: String
    var you: String
    var assistant: String
    var errorAction: String
    var loading: String
    // The error page.
    var errorTitle: String
    var errorMissing: String
    var errorExpired: String
    var errorInvalid: String
    var errorForbidden: String
    var errorHint: String

    static let english = PageStrings(
        placeholder: "Type a message...", send: "Send", empty: "Type a message.",
        emptyFull: "Start a new chat or select one from the list.", errorList: "Failed to load conversations.",
        errorMessages: "Failed to load messages.", errorSend: "Send failed.",
        errorUnavailable: "The assistant is not available right now. Please try again in a moment.", errorTimeout: "The assistant took too long to answer. Please try again.",
        title: "Chat", messageLabel: "Message", newChat: "New chat", conversations: "Conversations",
        showConversations: "Show conversations", untitled: "New conversation", rename: "Rename",
        renameLabel: "Conversation name", save: "Save", cancel: "Cancel", delete: "Delete",
        deleteConfirm: "Delete this conversation?", stop: "Stop", stopped: "Stopped.", retry: "Retry",
        typing: "The assistant is typing…", like: "Helpful", dislike: "Not helpful", copy: "Copy", copied: "Copied", suggestions: "Suggested questions",
        you: "You", assistant: "Assistant", errorAction: "That did not work. Please try again.", loading: "Loading…",
        errorTitle: "Chat unavailable", errorMissing: "This page needs a chat link.",
        errorExpired: "This chat link has expired.", errorInvalid: "This chat link is not valid.",
        errorForbidden: "Chat is not available for this account.",
        errorHint: "Please open the chat again from the app that sent you here.")

    static let spanish = PageStrings(
        placeholder: "Escribe un mensaje...", send: "Enviar", empty: "Escribe un mensaje.",
        emptyFull: "Inicia un chat nuevo o elige uno de la lista.", errorList: "No se pudieron cargar las conversaciones.",
        errorMessages: "No se pudieron cargar los mensajes.", errorSend: "No se pudo enviar.",
        errorUnavailable: "El asistente no está disponible en este momento. Inténtalo de nuevo en unos instantes.", errorTimeout: "El asistente tardó demasiado en responder. Inténtalo de nuevo.",
        title: "Chat", messageLabel: "Mensaje", newChat: "Nuevo chat", conversations: "Conversaciones",
        showConversations: "Mostrar conversaciones", untitled: "Nueva conversación", rename: "Renombrar",
        renameLabel: "Nombre de la conversación", save: "Guardar", cancel: "Cancelar", delete: "Eliminar",
        deleteConfirm: "¿Eliminar esta conversación?", stop: "Detener", stopped: "Detenido.", retry: "Reintentar",
        typing: "El asistente está escribiendo…", like: "Útil", dislike: "No es útil", copy: "Copiar", copied: "Copiado", suggestions: "Preguntas sugeridas",
        you: "Tú", assistant: "Asistente", errorAction: "No funcionó. Inténtalo de nuevo.", loading: "Cargando…",
        errorTitle: "Chat no disponible", errorMissing: "Esta página necesita un enlace de chat.",
        errorExpired: "Este enlace de chat ha caducado.", errorInvalid: "Este enlace de chat no es válido.",
        errorForbidden: "El chat no está disponible para esta cuenta.",
        errorHint: "Vuelve a abrir el chat desde la aplicación que te trajo aquí.")

    static let korean = PageStrings(
        placeholder: "메시지를 입력하세요...", send: "보내기", empty: "메시지를 입력하세요.",
        emptyFull: "새 채팅을 시작하거나 목록에서 선택하세요.", errorList: "대화 목록을 불러오지 못했습니다.",
        errorMessages: "메시지를 불러오지 못했습니다.", errorSend: "전송에 실패했습니다.",
        errorUnavailable: "지금은 어시스턴트를 사용할 수 없습니다. 잠시 후 다시 시도해 주세요.", errorTimeout: "답변이 너무 오래 걸렸습니다. 다시 시도해 주세요.",
        title: "채팅", messageLabel: "메시지", newChat: "새 채팅", conversations: "대화 목록",
        showConversations: "대화 목록 보기", untitled: "새 대화", rename: "이름 바꾸기",
        renameLabel: "대화 이름", save: "저장", cancel: "취소", delete: "삭제",
        deleteConfirm: "이 대화를 삭제할까요?", stop: "중지", stopped: "중지됨.", retry: "다시 시도",
        typing: "답변을 작성하는 중…", like: "도움이 됨", dislike: "도움이 안 됨", copy: "복사", copied: "복사됨", suggestions: "추천 질문",
        you: "나", assistant: "어시스턴트", errorAction: "처리하지 못했습니다. 다시 시도해 주세요.", loading: "불러오는 중…",
        errorTitle: "채팅을 사용할 수 없습니다", errorMissing: "이 페이지에는 채팅 링크가 필요합니다.",
        errorExpired: "채팅 링크가 만료되었습니다.", errorInvalid: "유효하지 않은 채팅 링크입니다.",
        errorForbidden: "이 계정에서는 채팅을 사용할 수 없습니다.",
        errorHint: "이 페이지로 연결한 앱에서 채팅을 다시 열어 주세요.")

    static let chinese = PageStrings(
        placeholder: "输入消息...", send: "发送", empty: "请输入消息。",
        emptyFull: "开始新的聊天，或从列表中选择一个。", errorList: "无法加载对话列表。",
        errorMessages: "无法加载消息。", errorSend: "发送失败。",
        errorUnavailable: "助手暂时不可用，请稍后重试。", errorTimeout: "助手响应超时，请重试。",
        title: "聊天", messageLabel: "消息", newChat: "新聊天", conversations: "对话",
        showConversations: "显示对话列表", untitled: "新对话", rename: "重命名",
        renameLabel: "对话名称", save: "保存", cancel: "取消", delete: "删除",
        deleteConfirm: "删除此对话？", stop: "停止", stopped: "已停止。", retry: "重试",
        typing: "助手正在输入…", like: "有帮助", dislike: "没有帮助", copy: "复制", copied: "已复制", suggestions: "推荐问题",
        you: "我", assistant: "助手", errorAction: "操作失败，请重试。", loading: "加载中…",
        errorTitle: "聊天不可用", errorMissing: "此页面需要聊天链接。",
        errorExpired: "此聊天链接已过期。", errorInvalid: "此聊天链接无效。",
        errorForbidden: "此帐户无法使用聊天。",
        errorHint: "请从将您带到这里的应用中重新打开聊天。")

    static let japanese = PageStrings(
        placeholder: "メッセージを入力...", send: "送信", empty: "メッセージを入力してください。",
        emptyFull: "新しいチャットを始めるか、一覧から選んでください。", errorList: "会話一覧を読み込めませんでした。",
        errorMessages: "メッセージを読み込めませんでした。", errorSend: "送信できませんでした。",
        errorUnavailable: "アシスタントは現在利用できません。しばらくしてからもう一度お試しください。", errorTimeout: "応答に時間がかかりすぎました。もう一度お試しください。",
        title: "チャット", messageLabel: "メッセージ", newChat: "新しいチャット", conversations: "会話",
        showConversations: "会話一覧を表示", untitled: "新しい会話", rename: "名前を変更",
        renameLabel: "会話の名前", save: "保存", cancel: "キャンセル", delete: "削除",
        deleteConfirm: "この会話を削除しますか？", stop: "停止", stopped: "停止しました。", retry: "再試行",
        typing: "アシスタントが入力中…", like: "役に立った", dislike: "役に立たなかった", copy: "コピー", copied: "コピーしました", suggestions: "おすすめの質問",
        you: "あなた", assistant: "アシスタント", errorAction: "うまくいきませんでした。もう一度お試しください。", loading: "読み込み中…",
        errorTitle: "チャットを利用できません", errorMissing: "このページにはチャットリンクが必要です。",
        errorExpired: "チャットリンクの有効期限が切れています。", errorInvalid: "このチャットリンクは無効です。",
        errorForbidden: "このアカウントではチャットを利用できません。",
        errorHint: "このページを開いたアプリから、もう一度チャットを開いてください。")
}
