# Flask-WTF 1.x: feedsvc imports from flask_wtf.csrf only.
