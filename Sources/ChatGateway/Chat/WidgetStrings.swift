/// The widget shell's strings (`ui` in `/v1/chat-token?lang=`), in the five supported languages.
struct WidgetStrings: Codable, Equatable, Sendable {
    var title: String
    var close: String
    var open: String
    var tokenError: String
    var loading: String

    static let supportedLanguages = ["en", "es", "ko", "zh", "ja"]

    /// `ko`, `ko-KR` and `KO` all mean Korean; anything unsupported falls back to English.
    static func language(for tag: String) -> String {
        let primary = tag.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init) ?? ""
        return supportedLanguages.contains(primary) ? primary : "en"
    }

    static func forLanguage(_ tag: String) -> WidgetStrings {
        switch language(for: tag) {
        case "es": WidgetStrings(title: "Chat", close: "Cerrar", open: "Abrir chat", tokenError: "No se pudo cargar el token del chat.", loading: "Cargando...")
        case "ko": WidgetStrings(title: "채팅", close: "닫기", open: "채팅 열기", tokenError: "채팅 토큰을 불러오지 못했습니다.", loading: "불러오는 중...")
        case "zh": WidgetStrings(title: "聊天", close: "关闭", open: "打开聊天", tokenError: "无法加载聊天令牌。", loading: "加载中...")
        case "ja": WidgetStrings(title: "チャット", close: "閉じる", open: "チャットを開く", tokenError: "チャットトークンを読み込めませんでした。", loading: "読み込み中...")
        default: WidgetStrings(title: "Chat", close: "Close", open: "Open chat", tokenError: "Could not load chat token.", loading: "Loading...")
        }
    }
}
