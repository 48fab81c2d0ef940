import Foundation

extension ImagePreprocessorConfig {
    /// Reads a Hugging Face `preprocessor_config.json` (CLIPImageProcessor / the older
    /// CLIPFeatureExtractor): `size` as `{"shortest_edge": n}` or a bare int, `crop_size` as
    /// `{"height", "width"}` or a bare int, `rescale_factor`, `image_mean`, `image_std`. Settings
    /// this pipeline does not implement (no resize, no crop, another resample filter) are
    /// rejected by name rather than silently ignored.
    public init(huggingFaceFile path: String) throws(CLIPModelError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadableFile(path: path, detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let json = object as? [String: Any] else { throw .badConfig(file: path, key: "<root>", detail: "expected a JSON object") }
        func bad(_ key: String, _ detail: String) -> CLIPModelError { .badConfig(file: path, key: key, detail: detail) }
        func positiveInt(_ v: Any?, _ key: String) throws(CLIPModelError) -> Int {
            guard let n = v as? NSNumber, !isJSONBool(n), n.doubleValue == n.doubleValue.rounded(), n.intValue > 0, n.intValue < 100_000 else {
                throw bad(key, "expected a positive integer, got \(v.map { "\($0)" } ?? "nothing")")
            }
            return n.intValue
        }
        for flag in ["do_resize", "do_center_crop", "do_rescale", "do_normalize"] {
            if let v = json[flag], let n = v as? NSNumber, n.intValue == 0 {
                throw bad(flag, "false is not supported (CLIP preprocessing always resizes, crops, rescales and normalises)")
            }
        }
        if let r = json["resample"], !(r is NSNull) {
            guard let n = r as? NSNumber, n.intValue == 3 else { throw bad("resample", "only 3 (bicubic) is supported, got \(r)") }
        }
        if let c = json["do_convert_rgb"], let n = c as? NSNumber, n.intValue == 0 {
            throw bad("do_convert_rgb", "false is not supported (images are always converted to RGB)")
        }
        var shortest = 224
        switch json["size"] {
        case nil, is NSNull: break
        case let dict as [String: Any]:
            guard dict["shortest_edge"] != nil else {
                throw bad("size", "only {\"shortest_edge\": n} is supported, got keys \(dict.keys.sorted())")
            }
            shortest = try positiveInt(dict["shortest_edge"], "size.shortest_edge")
        case let v: shortest = try positiveInt(v, "size")
        }
        var cropW = shortest, cropH = shortest
        switch json["crop_size"] {
        case nil, is NSNull: break
        case let dict as [String: Any]:
            cropH = try positiveInt(dict["height"], "crop_size.height")
            cropW = try positiveInt(dict["width"], "crop_size.width")
        case let v: cropW = try positiveInt(v, "crop_size"); cropH = cropW
        }
        var rescale = 1.0 / 255.0
        if let v = json["rescale_factor"], !(v is NSNull) {
            guard let n = v as? NSNumber, n.doubleValue.isFinite, n.doubleValue > 0 else { throw bad("rescale_factor", "expected a positive number") }
            rescale = n.doubleValue
        }
        func triple(_ key: String, _ d: [Double]) throws(CLIPModelError) -> [Double] {
            guard let v = json[key], !(v is NSNull) else { return d }
            guard let a = v as? [Any], a.count == 3 else { throw bad(key, "expected 3 numbers (R, G, B)") }
            var out: [Double] = []
            for x in a {
                guard let n = x as? NSNumber, n.doubleValue.isFinite else { throw bad(key, "expected 3 finite numbers") }
                out.append(n.doubleValue)
            }
            return out
        }
        let mean = try triple("image_mean", Self.openAICLIPMean)
        let std = try triple("image_std", Self.openAICLIPStd)
        guard std.allSatisfy({ $0 != 0 }) else { throw bad("image_std", "values must be non-zero") }
        self.init(shortestEdge: shortest, cropWidth: cropW, cropHeight: cropH, rescaleFactor: rescale, mean: mean, std: std)
    }
}

/// JSONSerialization returns booleans as NSNumber; tell them apart from 0/1 integers.
func isJSONBool(_ n: NSNumber) -> Bool {
    String(cString: n.objCType) == "c"
}
