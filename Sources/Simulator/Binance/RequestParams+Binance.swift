import BallastCore

/// Typed readers of a request's parameters that fail the way Binance does.
extension RequestParams {
    func required(_ name: String) throws(BinanceError) -> String {
        guard let value = self[name] else {
            throw .badRequest(-1102, "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.")
        }
        return value
    }

    func decimal(_ name: String) throws(BinanceError) -> ExactDecimal? {
        guard let text = self[name] else { return nil }
        guard text.allSatisfy({ $0.isNumber || $0 == "." }), let value = ExactDecimal(text), !value.isNegative else {
            throw .badRequest(
                -1100,
                "Illegal characters found in parameter '\(name)'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
        }
        return value
    }

    func integer(_ name: String) throws(BinanceError) -> Int64? {
        guard let text = self[name] else { return nil }
        guard let value = Int64(text) else {
            throw .badRequest(-1100, "Illegal characters found in parameter '\(name)'; legal range is '^[0-9]{1,20}$'.")
        }
        return value
    }
}
