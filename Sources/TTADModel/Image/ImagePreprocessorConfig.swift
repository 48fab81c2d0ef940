/// Settings of `ImagePreprocessor`, mirroring Hugging Face `CLIPImageProcessor`'s
/// (`size.shortest_edge`, `crop_size`, `rescale_factor`, `image_mean`, `image_std`; resample is
/// always PIL bicubic, centre crop, rescale and normalise are always on).
public struct ImagePreprocessorConfig: Sendable, Equatable {
    /// The shorter image side is resized to this; the longer to ⌊shortestEdge · long / short⌋.
    public var shortestEdge: Int
    public var cropWidth: Int
    public var cropHeight: Int
    /// Applied in float64 then rounded to float32, as transformers' `rescale` does.
    public var rescaleFactor: Double
    /// Per-channel (R, G, B) mean and standard deviation, used as float32.
    public var mean: [Double]
    public var std: [Double]

    public static let openAICLIPMean: [Double] = [0.48145466, 0.4578275, 0.40821073]
    public static let openAICLIPStd: [Double] = [0.26862954, 0.26130258, 0.27577711]

    /// OpenAI CLIP's preprocessing (ViT-B/32, ViT-B/16, ViT-L/14 at 224 px).
    public static let openAICLIP = ImagePreprocessorConfig()

    public init(shortestEdge: Int = 224, cropWidth: Int = 224, cropHeight: Int = 224,
                rescaleFactor: Double = 1.0 / 255.0,
                mean: [Double] = ImagePreprocessorConfig.openAICLIPMean,
                std: [Double] = ImagePreprocessorConfig.openAICLIPStd) {
        precondition(shortestEdge > 0 && cropWidth > 0 && cropHeight > 0, "ImagePreprocessorConfig: sizes must be positive")
        precondition(mean.count == 3 && std.count == 3, "ImagePreprocessorConfig: mean and std need 3 values (R, G, B)")
        precondition(std.allSatisfy { $0 != 0 && $0.isFinite } && mean.allSatisfy(\.isFinite),
                     "ImagePreprocessorConfig: std must be non-zero and finite")
        self.shortestEdge = shortestEdge
        self.cropWidth = cropWidth
        self.cropHeight = cropHeight
        self.rescaleFactor = rescaleFactor
        self.mean = mean
        self.std = std
    }

    public init(shortestEdge: Int, cropSize: Int, rescaleFactor: Double = 1.0 / 255.0,
                mean: [Double] = ImagePreprocessorConfig.openAICLIPMean,
                std: [Double] = ImagePreprocessorConfig.openAICLIPStd) {
        self.init(shortestEdge: shortestEdge, cropWidth: cropSize, cropHeight: cropSize,
                  rescaleFactor: rescaleFactor, mean: mean, std: std)
    }

    /// The size the image is resized to before cropping — transformers'
    /// `get_resize_output_image_size(default_to_square=False)`: `int(edge * long / short)` for
    /// the long side (Python true division, truncated).
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        precondition(width > 0 && height > 0)
        let short = min(width, height), long = max(width, height)
        let newLong = Int(Double(shortestEdge * long) / Double(short))
        return width <= height ? (shortestEdge, newLong) : (newLong, shortestEdge)
    }
}
