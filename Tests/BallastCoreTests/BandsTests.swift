import BallastCore
import Foundation
import Testing

@Suite struct BandsTests {
    @Test func volatilityOfAKnownSeries() throws {
        // Hourly prices alternating +1 % and −1 % in log terms: sample σ per hour ≈ 0.01.
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        var price = 100.0
        var series = [(time: start, price: price)]
        for i in 1...48 {
            price *= exp(i % 2 == 0 ? -0.01 : 0.01)
            series.append((start.addingTimeInterval(Double(i) * 3600), price))
        }
        let sigma = try #require(Bands.annualisedVolatility(series))
        let hourly = 0.01 * (48.0 / 47.0).squareRoot()  // sample variance of ±0.01 with mean ≈ 0
        #expect(abs(sigma - hourly * (365.25 * 24).squareRoot()) < 1e-3)
        #expect(Bands.annualisedVolatility(Array(series.prefix(2))) == nil)
    }

    @Test func bandsFollowTheCubeRootLawAndTheirClamps() {
        let base = Bands.halfWidth(cost: 0.001, volatility: 0.6, multiplier: 1, minimum: 0, maximum: 1)
        // (c·σ²)^⅓ = (0.001 · 0.36)^⅓ ≈ 0.0711.
        #expect(abs(base - pow(0.00036, 1.0 / 3.0)) < 1e-12)
        // Eight times the cost: twice the band. Twice the volatility: 2^⅔ the band.
        let dearer = Bands.halfWidth(cost: 0.008, volatility: 0.6, multiplier: 1, minimum: 0, maximum: 1)
        #expect(abs(dearer / base - 2) < 1e-9)
        let wilder = Bands.halfWidth(cost: 0.001, volatility: 1.2, multiplier: 1, minimum: 0, maximum: 1)
        #expect(abs(wilder / base - pow(2, 2.0 / 3.0)) < 1e-9)
        // Clamped to [min, max].
        #expect(Bands.halfWidth(cost: 0.000001, volatility: 0.1, multiplier: 1, minimum: 0.01, maximum: 0.1) == 0.01)
        #expect(Bands.halfWidth(cost: 0.05, volatility: 3, multiplier: 1, minimum: 0.01, maximum: 0.1) == 0.1)
    }

    @Test func aBreachIsADriftBeyondItsBand() {
        let drift = ["BTC": 0.06, "ETH": -0.09, "SOL": 0.02, "USDT": 0.01]
        let bands = ["BTC": 0.05, "ETH": 0.05, "SOL": 0.05, "USDT": 0.05]
        #expect(Bands.breaches(drift: drift, bands: bands) == ["ETH", "BTC"])
        #expect(Bands.breaches(drift: ["BTC": 0.05], bands: ["BTC": 0.05]).isEmpty)  // on the edge: no trade
    }
}
