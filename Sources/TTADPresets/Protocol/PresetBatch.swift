import TTADModel

/// The batch a preset sees: each row's features as the classifier scored them (the image
/// features in image mode, the input embedding in embedding mode), the classifier that scored
/// them (its probabilities by row), and in image mode the rows' images.
///
/// Valid only during the call it is passed to: the buffers belong to the predictor.
public struct PresetBatch {
    public var count: Int
    public var features: UnsafePointer<Float>
    public var featureDimension: Int
    public var classifier: EmbeddingClassifier
    /// Image mode only.
    public var images: ImageBatch?

    public init(count: Int, features: UnsafePointer<Float>, featureDimension: Int, classifier: EmbeddingClassifier,
                images: ImageBatch? = nil) {
        self.count = count
        self.features = features
        self.featureDimension = featureDimension
        self.classifier = classifier
        self.images = images
    }

    /// Row `i`'s features.
    public func features(at i: Int) -> UnsafeBufferPointer<Float> {
        precondition(i >= 0 && i < count)
        return UnsafeBufferPointer(start: features + i * featureDimension, count: featureDimension)
    }
}
