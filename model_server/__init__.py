"""The project's model server: TensorFlow Serving's gRPC API over SavedModels on disk."""
