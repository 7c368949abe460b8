# ucloud plugin
